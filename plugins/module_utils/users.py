# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Purging and disabling IAM users: resolve, guard, inventory, plan, apply.

Every user goes through the same steps. ``inventory`` reads everything that
blocks DeleteUser; ``plan_user`` is a pure function from those facts to the
ordered actions; check mode stops there and reports them, a real run writes
the manifest and then applies the very same list.
"""

from __future__ import annotations

import fnmatch
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.client import IamGuardError, call, error_code, is_conflict, iso_date, read, with_mfa_hint
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.mfa import VirtualDevices, plan_devices_removal, user_devices
from ansible_collections.iamguard.aws.plugins.module_utils.plan import Action, apply, report

MAX_WORKERS = 32
MAX_CONFLICT_RETRIES = 10
# Kinds of credential, in the order a purge removes them: sign-in first.
CREDENTIAL_KINDS = ("login_profile", "access_keys", "ssh_public_keys", "signing_certificates", "service_specific_credentials", "mfa_devices")
PERMISSION_KINDS = ("attached_policies", "inline_policies", "groups")


# --- options -----------------------------------------------------------------


def purge_options(params):
    """Validated iam_user_purge options, or InvalidInput before any AWS call."""
    options = dict(params)
    names = validation.name_list(options["user_names"], "user_names")
    options["user_names"] = _unique(validation.user_name(name, "user_names") for name in names)
    options["user_ids"] = _unique(validation.user_id(user_id, "user_ids") for user_id in options["user_ids"] or [])
    if not options["user_names"] and not options["user_ids"]:
        raise validation.InvalidInput("user_names", [], "give at least one user name or user id")
    for pattern in options["protected_users"]:
        if not isinstance(pattern, str) or not pattern.strip():
            raise validation.InvalidInput("protected_users", pattern, "each entry is a user name or glob pattern, not empty")
    if not 1 <= options["max_workers"] <= MAX_WORKERS:
        raise validation.InvalidInput("max_workers", options["max_workers"], "between 1 and %d" % MAX_WORKERS)
    if not 0 <= options["max_conflict_retries"] <= MAX_CONFLICT_RETRIES:
        raise validation.InvalidInput("max_conflict_retries", options["max_conflict_retries"], "between 0 and %d" % MAX_CONFLICT_RETRIES)
    if options["state"] == "absent" and options["access_key_action"] == "deactivate":
        raise validation.InvalidInput("access_key_action", "deactivate", "state=absent deletes the user and so its keys; deactivate is for state=disabled")
    if options["state"] == "absent" and options["remove_permissions"] is False:
        raise validation.InvalidInput("remove_permissions", False, "state=absent must remove permissions to delete the user")
    if options["manifest_dir"]:
        folder = options["manifest_dir"]
        if os.path.islink(folder) or not os.path.isdir(folder):
            raise validation.InvalidInput("manifest_dir", folder, "must be an existing folder, not a symbolic link")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise validation.InvalidInput("manifest_dir", folder, "must be writable")
    return options


def _unique(values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


# --- resolve and guard -----------------------------------------------------------


def caller_of(identity):
    """The facts of GetCallerIdentity the guard needs."""
    arn = identity["Arn"]
    name = arn.split("/")[-1] if ":user/" in arn else None
    return {"arn": arn, "user_id": identity.get("UserId"), "user_name": name, "account": identity["Account"]}


def guard(name=None, user_id=None, caller=None, protected=()):
    """Why this target must not be touched, or None."""
    # IAM user names are unique regardless of case ("Alice" is "alice"), so every name test ignores case.
    folded = name.lower() if name else None
    if folded == "root":
        return "root names the account's root user, which is never purged."
    if caller and ((folded and folded == (caller["user_name"] or "").lower()) or (user_id and user_id == caller["user_id"])):
        return "%s is the identity running this task; it is never purged." % (name or user_id)
    for pattern in protected:
        if folded and fnmatch.fnmatchcase(folded, pattern.lower()):
            return "%s is protected by protected_users pattern %r." % (name, pattern)
    return None


def index_users_by_id(client):
    """One paginated ListUsers walk, indexed by UserId, shared by the whole batch."""
    return {user["UserId"]: user for user in read(client, "list_users", "Users", "ListUsers")}


def get_user(client, name):
    """GetUser as a user record, or None when the user does not exist."""
    response = call(client, "get_user", "GetUser %s" % name, missing_ok=True, UserName=name)
    return _user_record(response["User"]) if response else None


def _user_record(raw):
    return {
        "user_name": raw["UserName"],
        "user_id": raw["UserId"],
        "arn": raw["Arn"],
        "path": raw.get("Path", "/"),
        "create_date": iso_date(raw.get("CreateDate")),
        "tags": {tag["Key"]: tag["Value"] for tag in raw.get("Tags", [])},
        "permissions_boundary": (raw.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
    }


# --- inventory -------------------------------------------------------------------


def inventory(client, user_name, virtual, detailed=False, known_serials=()):
    """Everything about one user that blocks DeleteUser (S6), or None if the user is gone.

    ``mfa_devices`` also holds the user's leftover devices (see ``leftover_devices``).
    ``detailed`` also reads what only the manifest needs: access-key last use,
    SSH key bodies and inline policy documents.
    """
    user = get_user(client, user_name)
    if user is None:
        return None
    doing = "reading %s of user %s" % ("%s", user_name)
    profile = call(client, "get_login_profile", doing % "the login profile", missing_ok=True, UserName=user_name)
    facts = {
        "user": user,
        "login_profile": _login_profile(profile),
        "access_keys": [
            {"access_key_id": key["AccessKeyId"], "status": key["Status"], "create_date": iso_date(key.get("CreateDate"))}
            for key in _list(client, "list_access_keys", "AccessKeyMetadata", doing % "access keys", user_name)
        ],
        "ssh_public_keys": _ssh_keys(client, user_name, doing),
        "signing_certificates": [
            {"certificate_id": cert["CertificateId"], "status": cert["Status"], "upload_date": iso_date(cert.get("UploadDate")),
             "body": cert.get("CertificateBody")}
            for cert in _list(client, "list_signing_certificates", "Certificates", doing % "signing certificates", user_name)
        ],
        "service_specific_credentials": [
            {
                "service_specific_credential_id": cred["ServiceSpecificCredentialId"],
                "service_name": cred.get("ServiceName"),
                "service_user_name": cred.get("ServiceUserName"),
                "status": cred.get("Status"),
            }
            for cred in _list(client, "list_service_specific_credentials", "ServiceSpecificCredentials", doing % "service-specific credentials", user_name)
        ],
        "mfa_devices": (user_devices(client, user_name, virtual) or []) + leftover_devices(virtual, user_name, known_serials),
        "groups": [group["GroupName"] for group in _list(client, "list_groups_for_user", "Groups", doing % "groups", user_name)],
        "inline_policies": {name: None for name in _list(client, "list_user_policies", "PolicyNames", doing % "inline policies", user_name)},
        "attached_policies": [
            policy["PolicyArn"] for policy in _list(client, "list_attached_user_policies", "AttachedPolicies", doing % "attached policies", user_name)
        ],
        "warnings": [],
    }
    if facts["ssh_public_keys"] is None:
        facts["ssh_public_keys"] = []
        facts["warnings"].append("ListSSHPublicKeys is not available in this partition; user %s was taken to have no SSH keys." % user_name)
    if detailed:
        _add_details(client, facts, doing)
    return facts


def leftover_devices(virtual, user_name, known_serials=()):
    """Unassigned virtual devices of ``user_name``: named after the user, or named in an earlier manifest of the user.

    A run stopped between DeactivateMFADevice and DeleteVirtualMFADevice leaves
    such a device, which no longer shows through the user; left alone it would
    outlive the user as an orphan. Deleting it finishes that run's plan.
    """
    leftovers = virtual.unassigned_of(user_name)
    named = {device["serial_number"] for device in leftovers}
    return leftovers + [device for device in virtual.unassigned() if device["serial_number"] in known_serials and device["serial_number"] not in named]


def manifest_serials(folder, account, user_name):
    """Serials of the virtual devices the earlier manifests of ``user_name`` in ``folder`` name."""
    if not folder:
        return set()
    serials = set()
    prefix = "%s-" % account
    for entry in sorted(os.listdir(folder)):
        # <account>-<user>-<YYYYmmddTHHMMSSZ>.json; user names hold '-' too, so the stamp is cut from the right.
        if not (entry.startswith(prefix) and entry.endswith(".json")) or entry[len(prefix):].rsplit("-", 1)[0].lower() != user_name.lower():
            continue
        try:
            with open(os.path.join(folder, entry), encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            continue  # unreadable or not JSON: it names nothing
        if not isinstance(document, dict):
            continue
        for part in [document] + document.get("appeared_during_run", []):
            serials.update(device["serial_number"] for device in part.get("mfa_devices", []) if device.get("type") == "virtual")
    return serials


def _list(client, operation, key, doing, user_name):
    # A user deleted while we read answers NoSuchEntity: nothing left of that kind.
    return read(client, operation, key, doing, missing_ok=True, UserName=user_name) or []


def _login_profile(response):
    if not response:
        return None
    profile = response["LoginProfile"]
    return {"create_date": iso_date(profile.get("CreateDate")), "password_reset_required": profile.get("PasswordResetRequired", False)}


def _ssh_keys(client, user_name, doing):
    try:
        keys = _list(client, "list_ssh_public_keys", "SSHPublicKeys", doing % "SSH public keys", user_name)
    except IamGuardError as e:
        if error_code(e.exception) == "InvalidAction":
            return None
        raise
    return [{"ssh_public_key_id": key["SSHPublicKeyId"], "status": key["Status"], "upload_date": iso_date(key.get("UploadDate"))} for key in keys]


def _add_details(client, facts, doing):
    user_name = facts["user"]["user_name"]
    for key in facts["access_keys"]:
        used = call(client, "get_access_key_last_used", doing % "access key last use", missing_ok=True, AccessKeyId=key["access_key_id"])
        last = (used or {}).get("AccessKeyLastUsed", {})
        key["last_used"] = {"date": iso_date(last.get("LastUsedDate")), "service": last.get("ServiceName"), "region": last.get("Region")}
    for key in facts["ssh_public_keys"]:
        body = call(client, "get_ssh_public_key", doing % "an SSH public key", missing_ok=True,
                    UserName=user_name, SSHPublicKeyId=key["ssh_public_key_id"], Encoding="SSH")
        key["body"] = (body or {}).get("SSHPublicKey", {}).get("SSHPublicKeyBody")
    for name in facts["inline_policies"]:
        policy = call(client, "get_user_policy", doing % "an inline policy", missing_ok=True, UserName=user_name, PolicyName=name)
        facts["inline_policies"][name] = (policy or {}).get("PolicyDocument")


# --- plan (pure) ---------------------------------------------------------------


def plan_user(facts, state, access_key_action="delete", remove_permissions=None):
    """The ordered actions for one user, from facts alone.

    Credentials go first, so a failure half-way never leaves a user who can
    still sign in; permissions next; DeleteUser last.
    """
    user_name = facts["user"]["user_name"]

    def on_user(action, target, **params):
        return Action(action, target, dict(UserName=user_name, **params))

    actions = []
    if facts["login_profile"]:
        actions.append(on_user("delete_login_profile", user_name))
    for key in facts["access_keys"]:
        if state == "disabled" and access_key_action == "deactivate":
            if key["status"] == "Active":
                actions.append(on_user("update_access_key", key["access_key_id"], AccessKeyId=key["access_key_id"], Status="Inactive"))
        else:
            actions.append(on_user("delete_access_key", key["access_key_id"], AccessKeyId=key["access_key_id"]))
    actions += [on_user("delete_ssh_public_key", key["ssh_public_key_id"], SSHPublicKeyId=key["ssh_public_key_id"]) for key in facts["ssh_public_keys"]]
    actions += [on_user("delete_signing_certificate", cert["certificate_id"], CertificateId=cert["certificate_id"]) for cert in facts["signing_certificates"]]
    actions += [
        on_user("delete_service_specific_credential", credential_id, ServiceSpecificCredentialId=credential_id)
        for credential_id in (cred["service_specific_credential_id"] for cred in facts["service_specific_credentials"])
    ]
    actions += plan_devices_removal(facts["mfa_devices"])
    if state == "absent" or remove_permissions:
        actions += [on_user("detach_user_policy", arn, PolicyArn=arn) for arn in facts["attached_policies"]]
        actions += [on_user("delete_user_policy", name, PolicyName=name) for name in sorted(facts["inline_policies"])]
        actions += [Action("remove_user_from_group", group, {"GroupName": group, "UserName": user_name}) for group in facts["groups"]]
    if state == "absent":
        actions.append(on_user("delete_user", user_name))
    return actions


def summarize(facts):
    """What --diff shows of a user: the ids of each dependent, no bodies, no secrets."""
    if not facts:
        return {}
    return {
        "arn": facts["user"]["arn"],
        "login_profile": bool(facts["login_profile"]),
        "access_keys": ["%s (%s)" % (key["access_key_id"], key["status"]) for key in facts["access_keys"]],
        "ssh_public_keys": [key["ssh_public_key_id"] for key in facts["ssh_public_keys"]],
        "signing_certificates": [cert["certificate_id"] for cert in facts["signing_certificates"]],
        "service_specific_credentials": [cred["service_specific_credential_id"] for cred in facts["service_specific_credentials"]],
        "mfa_devices": ["%s (%s)" % (device["serial_number"], device["type"]) for device in facts["mfa_devices"]],
        "groups": list(facts["groups"]),
        "inline_policies": sorted(facts["inline_policies"]),
        "attached_policies": list(facts["attached_policies"]),
    }


# What each removal takes away: the kind of fact, and the key of the item's id (None: the item is its id).
REMOVES = {
    "delete_access_key": ("access_keys", "access_key_id"),
    "delete_ssh_public_key": ("ssh_public_keys", "ssh_public_key_id"),
    "delete_signing_certificate": ("signing_certificates", "certificate_id"),
    "delete_service_specific_credential": ("service_specific_credentials", "service_specific_credential_id"),
    "deactivate_mfa_device": ("mfa_devices", "serial_number"),
    "delete_virtual_mfa_device": ("mfa_devices", "serial_number"),
    "detach_user_policy": ("attached_policies", None),
    "remove_user_from_group": ("groups", None),
}


def facts_after(facts, actions):
    """The facts the plan leads to (pure): None once DeleteUser is planned."""
    done = {(action.action, action.target) for action in actions}
    if any(kind == "delete_user" for kind, dummy in done):
        return None
    after = dict(facts)
    if ("delete_login_profile", facts["user"]["user_name"]) in done:
        after["login_profile"] = None
    for action, (kind, key) in REMOVES.items():
        after[kind] = [item for item in after[kind] if (action, item[key] if key else item) not in done]
    after["access_keys"] = [dict(key, status="Inactive") if ("update_access_key", key["access_key_id"]) in done else key for key in after["access_keys"]]
    after["inline_policies"] = {name: document for name, document in facts["inline_policies"].items() if ("delete_user_policy", name) not in done}
    return after


# --- manifest ----------------------------------------------------------------------


def manifest_document(facts, actions, caller):
    """Enough to recreate the user, minus secrets (which IAM never returns anyway)."""
    return {
        "format": "iamguard.aws/user-manifest/1",
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "written_by": caller["arn"],
        "user": facts["user"],
        "login_profile": facts["login_profile"],
        "access_keys": facts["access_keys"],
        "ssh_public_keys": facts["ssh_public_keys"],
        "signing_certificates": facts["signing_certificates"],
        "service_specific_credentials": facts["service_specific_credentials"],
        "mfa_devices": [{"serial_number": d["serial_number"], "type": d["type"], "enable_date": d["enable_date"]} for d in facts["mfa_devices"]],
        "groups": facts["groups"],
        "inline_policies": facts["inline_policies"],
        "attached_policies": facts["attached_policies"],
        "actions": report(actions),
    }


def manifest_path(folder, account, user_name):
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return os.path.join(folder, "%s-%s-%s.json" % (account, user_name, stamp))


# --- one user, then the batch ------------------------------------------------------------


class Batch:
    """What every user of one module run shares: one client, one virtual-device read, the caller."""

    def __init__(self, client, options, check_mode, caller, lacks_mfa=lambda: False):
        self.client = client
        self.options = options
        self.check_mode = check_mode
        self.caller = caller
        self.virtual = VirtualDevices(client)
        self._lacks_mfa = lacks_mfa
        self._lacks_mfa_answer = []
        self._lock = threading.Lock()

    def lacks_mfa(self):
        """Whether the session carries no MFA, worked out once per run, on the first MFA-gated denial."""
        with self._lock:
            if not self._lacks_mfa_answer:
                self._lacks_mfa_answer.append(self._lacks_mfa())
            return self._lacks_mfa_answer[0]

    def plan(self, facts):
        return plan_user(facts, self.options["state"], self.options["access_key_action"], self.options["remove_permissions"])

    def process(self, target):
        """The result of one user. Never raises: a failure is that user's result."""
        result = {"requested": target["requested"], "user_name": target.get("user_name"), "user_id": target.get("user_id"),
                  "arn": None, "status": None, "actions": [], "manifest": None, "error": None, "warnings": [], "diff": None}
        reason = guard(target.get("user_name"), target.get("user_id"), self.caller, self.options["protected_users"])
        if reason:
            return _protected(result, reason)
        if target.get("user_name") is None:
            return dict(result, status="absent")
        try:
            self._purge(target["user_name"], result)
        except IamGuardError as e:
            result.update(status="failed", error=with_mfa_hint(e, self.lacks_mfa).message)
        except Exception as e:  # pylint: disable=broad-exception-caught
            # Whatever went wrong is this user's failure: the results of the users
            # already done (and deleted) must still be reported.
            result.update(status="failed", error="unexpected error while purging %s: %s: %s" % (target["requested"], type(e).__name__, e))
        return result

    def _purge(self, user_name, result):
        detailed = bool(self.options["manifest_dir"]) and not self.check_mode
        known = manifest_serials(self.options["manifest_dir"], self.caller["account"], user_name)
        facts = inventory(self.client, user_name, self.virtual, detailed, known)
        if facts is None:
            # Gone already, maybe deleted by a run that stopped before deleting its virtual device.
            result["status"] = "absent"
            actions = plan_devices_removal(leftover_devices(self.virtual, user_name, known))
            result["actions"] = report(actions)
            if not self.check_mode:
                apply(self.client, actions)
            return
        user_name = facts["user"]["user_name"]  # as IAM spells it
        result.update(user_name=user_name, user_id=facts["user"]["user_id"], arn=facts["user"]["arn"])
        # Again with IAM's own name and id: a target given by id, or spelt in another case, is guarded too.
        reason = guard(user_name, facts["user"]["user_id"], self.caller, self.options["protected_users"])
        if reason:
            _protected(result, reason)
            return
        result["warnings"] += facts.pop("warnings")
        actions = self.plan(facts)
        result["actions"] = report(actions)
        result["diff"] = {"before": summarize(facts), "after": summarize(facts_after(facts, actions))}
        result["status"] = "deleted" if self.options["state"] == "absent" else "disabled"
        if self.check_mode or not actions:
            return
        manifest = None
        if self.options["manifest_dir"]:
            manifest = {"path": manifest_path(self.options["manifest_dir"], self.caller["account"], user_name),
                        "document": manifest_document(facts, actions, self.caller)}
            result["manifest"] = write_private_file(manifest["path"], _json(manifest["document"]), "manifest_dir")
        self._apply(user_name, actions, result, manifest, known)

    def _apply(self, user_name, actions, result, manifest, known_serials):
        """Apply; on DeleteConflict (a dependent appeared) inventory and plan again, bounded."""
        retries = self.options["max_conflict_retries"]
        for attempt in range(retries + 1):
            try:
                apply(self.client, actions)
                return
            except IamGuardError as e:
                if not is_conflict(e.exception) or attempt == retries:
                    if is_conflict(e.exception):
                        e.message += " (still in conflict after %d re-inventories: something keeps adding dependents to %s)" % (retries, user_name)
                    raise
            # A fresh virtual-device read: a device enabled meanwhile must be typed (and deleted) as virtual.
            facts = inventory(self.client, user_name, VirtualDevices(self.client), detailed=bool(manifest), known_serials=known_serials)
            if facts is None:
                return
            facts.pop("warnings")
            actions = self.plan(facts)
            result["actions"] += report(action for action in actions if action.action != "delete_user")
            if manifest:
                # Every removed dependent is in a manifest written before its removal: the first
                # inventory stays, what appeared since is added.
                manifest["document"].setdefault("appeared_during_run", []).append(manifest_document(facts, actions, self.caller))
                write_private_file(manifest["path"], _json(manifest["document"]), "manifest_dir", force=True)


def _protected(result, reason):
    result.update(status="protected", error=reason)
    result["warnings"].append("%s was not touched: %s" % (result["requested"], reason))
    return result


def _json(document):
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def resolve_targets(client, options):
    """Names as given; ids through one shared ListUsers walk (None when unknown)."""
    targets = [{"requested": name, "user_name": name} for name in options["user_names"]]
    if options["user_ids"]:
        by_id = index_users_by_id(client)
        for user_id in options["user_ids"]:
            found = by_id.get(user_id)
            targets.append({"requested": user_id, "user_id": user_id, "user_name": found["UserName"] if found else None})
    return _once_per_user(targets)


def _once_per_user(targets):
    """One target per user: a user named twice (by name and id, or in two cases) is purged once."""
    seen = set()
    unique = []
    for target in targets:
        key = (target["user_name"] or target["requested"]).lower()
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


def purge(client, caller_identity, options, check_mode, lacks_mfa=lambda: False):
    """The iam_user_purge module result for validated ``options``.

    ``lacks_mfa()`` tells whether the session is known to carry no MFA (client.credentials_lack_mfa).
    """
    caller = caller_of(caller_identity())
    batch = Batch(client, options, check_mode, caller, lacks_mfa)
    targets = resolve_targets(client, options)
    with ThreadPoolExecutor(max_workers=min(options["max_workers"], len(targets))) as pool:
        users = list(pool.map(batch.process, targets))
    warnings = [warning for user in users for warning in user.pop("warnings")]
    diffs = [(user["requested"], user.pop("diff")) for user in users]
    result = {
        "changed": any(user["actions"] for user in users),
        "users": users,
        "warnings": warnings,
        "diff": {"before": {name: diff["before"] for name, diff in diffs if diff}, "after": {name: diff["after"] for name, diff in diffs if diff}},
    }
    failing = ("failed", "protected") if options["fail_on_protected"] else ("failed",)
    failed = [user for user in users if user["status"] in failing]
    if failed:
        result["failure"] = "%d of %d users could not be %s: %s" % (
            len(failed), len(users), "deleted" if options["state"] == "absent" else "disabled",
            "; ".join("%s: %s" % (user["requested"], user["error"]) for user in failed),
        )
    return result
