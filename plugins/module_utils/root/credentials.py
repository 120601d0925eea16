# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root credentials of member accounts: audit and removal through centralized root access.

From the organization's management account (or the IAM delegated administrator):
checks (the target is a 12-digit id; root.organization: not the management
account, the organization has RootCredentialsManagement and RootSessions), then a root
session in the member account (root.session), the root's credentials read
without UserName (the root principal's own), a pure plan of Actions, and apply.

Check mode and the audit assume root with the audit task policy, which allows
reads only: they cannot change anything, whatever the code does. Removal assumes
root with the delete task policy, which has no ListVirtualMFADevices: a device's
type comes from its serial alone (``:u2f/`` passkey, ``:mfa/`` virtual, anything
else hardware). A hardware token registered with an ``:mfa/`` serial is then
planned as virtual: its DeleteVirtualMFADevice answers NoSuchEntity, which the
executor takes as done, and the deactivation before it is what counts.
"""

from __future__ import annotations

import json
import os
import re
import time

from ansible_collections.iamguard.aws.plugins.module_utils import manifest, phishing, validation
from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, is_conflict, is_missing
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.findings import (
    CENTRALIZED_ROOT_ACCESS_DISABLED, NO_PHISHING_RESISTANT_MFA, ROOT_ACCESS_KEY, ROOT_CREDENTIALS_PRESENT, ROOT_VIRTUAL_MFA, ROOT_WITHOUT_MFA,
    finding, type_by_serial,
)
from ansible_collections.iamguard.aws.plugins.module_utils.paging import iso_date, read
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action, report
from ansible_collections.iamguard.aws.plugins.module_utils.root import scp
from ansible_collections.iamguard.aws.plugins.module_utils.root.organization import assume_root, centralized_root_access, check_target, management_account
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import AUDIT_TASK_POLICY, DELETE_TASK_POLICY
from ansible_collections.iamguard.aws.plugins.module_utils.runner import caller_identity
from ansible_collections.iamguard.aws.plugins.module_utils.tags import ROOT_DEVICE_NAME, VIRTUAL

LOGIN_PROFILE = "login_profile"
ACCESS_KEYS = "access_keys"
SIGNING_CERTIFICATES = "signing_certificates"
MFA_DEVICES = "mfa_devices"
# In the order they are removed: sign-in first, MFA last.
CREDENTIAL_TYPES = (LOGIN_PROFILE, ACCESS_KEYS, SIGNING_CERTIFICATES, MFA_DEVICES)
ROOT_FINDING_IDS = (ROOT_WITHOUT_MFA, ROOT_VIRTUAL_MFA, ROOT_ACCESS_KEY, ROOT_CREDENTIALS_PRESENT, NO_PHISHING_RESISTANT_MFA,
                    CENTRALIZED_ROOT_ACCESS_DISABLED)

ACCOUNT_ID = re.compile(r"[0-9]{12}")
MANIFEST_NAME = "root-credentials"  # <account>-root-credentials-<UTC time>.json
DELETED_LEFTOVERS = "deleted_leftovers"  # in a manifest not finished yet: its deactivated virtual devices a later run deleted


# --- options -------------------------------------------------------------------------


def root_options(params):
    """Validated options, or InvalidInput before any AWS call."""
    options = dict(params)
    account_id = options["account_id"]
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        raise validation.InvalidInput("account_id", account_id, "an AWS account id is 12 digits (quote it in YAML so leading zeros stay)")
    types = options.get("credential_types")
    if types is not None:
        if not types:
            raise validation.InvalidInput("credential_types", types, "name at least one of %s" % ", ".join(CREDENTIAL_TYPES))
        options["credential_types"] = [kind for kind in CREDENTIAL_TYPES if kind in types]
    folder = options.get("manifest_dir")
    if folder is not None and (os.path.islink(folder) or not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK)):
        raise validation.InvalidInput("manifest_dir", folder, "must be an existing, writable folder, not a symbolic link")
    return options


# --- facts (reads through the root session, no UserName: the root principal's own) -------


def read_credentials(client):
    """The root user's credentials, as facts without secrets."""
    profile = call(client, "get_login_profile", "GetLoginProfile of root", missing_ok=True)
    keys = [describe_key(client, key) for key in read(client, "list_access_keys", "AccessKeyMetadata", "ListAccessKeys of root")]
    certificates = read(client, "list_signing_certificates", "Certificates", "ListSigningCertificates of root")
    devices = read(client, "list_mfa_devices", "MFADevices", "ListMFADevices of root")
    return {
        LOGIN_PROFILE: {"create_date": iso_date(profile["LoginProfile"].get("CreateDate"))} if profile else None,
        ACCESS_KEYS: keys,
        SIGNING_CERTIFICATES: [
            {"certificate_id": cert["CertificateId"], "status": cert.get("Status"), "upload_date": iso_date(cert.get("UploadDate"))}
            for cert in certificates
        ],
        MFA_DEVICES: [
            {"serial_number": device["SerialNumber"], "type": device_type(device["SerialNumber"]), "enable_date": iso_date(device.get("EnableDate"))}
            for device in devices
        ],
    }


def describe_key(client, key):
    key_id = key["AccessKeyId"]
    used = call(client, "get_access_key_last_used", "GetAccessKeyLastUsed %s" % key_id, missing_ok=True, AccessKeyId=key_id)
    last = (used or {}).get("AccessKeyLastUsed", {})
    return {"access_key_id": key_id, "status": key.get("Status"), "create_date": iso_date(key.get("CreateDate")),
            "last_used_date": iso_date(last.get("LastUsedDate")), "last_used_service": last.get("ServiceName")}


def device_type(serial):
    # The serial's shape is all the task policies leave (no ListVirtualMFADevices).
    return type_by_serial(serial)


# --- findings and plan (pure) -------------------------------------------------------------


def has_credentials(facts):
    return bool(facts[LOGIN_PROFILE] or facts[ACCESS_KEYS] or facts[SIGNING_CERTIFICATES])


def findings(facts):
    """IAM.9 / IAM.6 / IAM.4 of findings.py, root_credentials_present (which kinds root holds), and no_phishing_resistant_mfa
    for a root with a password and no passkey. Root with no credentials at all passes IAM.9 and IAM.6, as Security Hub has it."""
    held = [kind for kind in CREDENTIAL_TYPES if facts[kind]]
    found = [finding(ROOT_CREDENTIALS_PRESENT, credentials=held)] if held else []
    if not facts[MFA_DEVICES] and has_credentials(facts):
        found.append(finding(ROOT_WITHOUT_MFA))
    found.extend(finding(ROOT_VIRTUAL_MFA, serial_number=device["serial_number"])
                 for device in facts[MFA_DEVICES] if device["type"] == VIRTUAL)
    found.extend(finding(ROOT_ACCESS_KEY, access_key_id=key["access_key_id"], active=key["status"] == "Active",
                         last_used=key["last_used_date"])
                 for key in facts[ACCESS_KEYS])
    if facts[LOGIN_PROFILE]:
        found.extend(phishing.findings(None, facts[MFA_DEVICES]))
    return found


def counts(found):
    return {finding_id: sum(1 for item in found if item["id"] == finding_id) for finding_id in ROOT_FINDING_IDS}


def plan_removal(facts, credential_types, leftovers=()):
    """Sign-in first (password, keys, certificates), then every device deactivated, each virtual one deleted right after.

    ``leftovers``: virtual serials a run that did not finish may have deactivated without deleting (see leftover_serials).
    They are deleted whatever ``credential_types``: the device is deactivated already, and deleting it is what that run
    recorded it would do.
    """
    actions = []
    if LOGIN_PROFILE in credential_types and facts[LOGIN_PROFILE]:
        actions.append(Action("delete_login_profile", "root"))
    if ACCESS_KEYS in credential_types:
        actions.extend(Action("delete_access_key", key["access_key_id"], {"AccessKeyId": key["access_key_id"]}) for key in facts[ACCESS_KEYS])
    if SIGNING_CERTIFICATES in credential_types:
        actions.extend(Action("delete_signing_certificate", cert["certificate_id"], {"CertificateId": cert["certificate_id"]})
                       for cert in facts[SIGNING_CERTIFICATES])
    if MFA_DEVICES in credential_types:
        for device in facts[MFA_DEVICES]:
            serial = device["serial_number"]
            actions.append(Action("deactivate_mfa_device", serial, {"SerialNumber": serial}))
            if device["type"] == VIRTUAL:
                actions.append(Action("delete_virtual_mfa_device", serial, {"SerialNumber": serial}))
    actions.extend(Action("delete_virtual_mfa_device", serial, {"SerialNumber": serial}) for serial in leftovers)
    return actions


def facts_after(facts, credential_types):
    """What the plan leads to: the selected kinds gone."""
    return {kind: (None if kind == LOGIN_PROFILE else []) if kind in credential_types else value for kind, value in facts.items()}


def manifest_document(account_id, facts, actions, caller_arn, written_at):
    return {
        "format": "iamguard.aws/root-credentials-manifest/1",
        "written_at": written_at,
        "written_by": caller_arn,
        "account_id": account_id,
        "root_credentials": facts,
        "actions": report(actions),
    }


# --- manifests of runs that did not finish ------------------------------------------------------
# A run stopped between DeactivateMFADevice and DeleteVirtualMFADevice leaves root's virtual
# device unassigned: ListMFADevices no longer shows it and the delete task policy cannot list
# virtual devices. Its manifest, written first and marked finished only after the last action,
# still names it, so the next run deletes it.


def unfinished_manifests(folder, account_id):
    """{path: document} of this account's earlier root manifests in ``folder`` that were never marked finished."""
    if not folder:
        return {}
    prefix = "%s-%s-" % (account_id, MANIFEST_NAME)
    found = {}
    for entry in sorted(os.listdir(folder)):
        if not (entry.startswith(prefix) and entry.endswith(".json")):
            continue
        path = os.path.join(folder, entry)
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            continue  # unreadable or not JSON: it names nothing
        if isinstance(document, dict) and not document.get("finished_at"):
            found[path] = document
    return found


def _named_virtual(document):
    """The virtual serials a manifest names and has not recorded as deleted since (DELETED_LEFTOVERS)."""
    devices = (document.get("root_credentials") or {}).get(MFA_DEVICES, [])
    return {device["serial_number"] for device in devices if device.get("type") == VIRTUAL} - set(document.get(DELETED_LEFTOVERS, []))


def leftover_serials(unfinished, facts):
    """Virtual serials the unfinished manifests name that ListMFADevices no longer shows (deactivated, maybe not deleted)."""
    listed = {device["serial_number"] for device in facts[MFA_DEVICES]}
    return sorted(set().union(*(_named_virtual(document) for document in unfinished.values())) - listed)


def remaining(facts):
    """The targets (as the actions name them) that root still has: 'root' for the login profile, key ids, certificate ids, MFA serials."""
    present = {"root"} if facts[LOGIN_PROFILE] else set()
    present.update(key["access_key_id"] for key in facts[ACCESS_KEYS])
    present.update(cert["certificate_id"] for cert in facts[SIGNING_CERTIFICATES])
    present.update(device["serial_number"] for device in facts[MFA_DEVICES])
    return present


def finished_manifests(documents, after):
    """The {path: document} whose every action's target is gone from ``after`` (root's credentials read after this run).

    A virtual serial an unfinished manifest names and ListMFADevices no longer shows is deleted by this run (see
    plan_removal), so only what root still holds keeps a manifest unfinished: a run limited to some credential
    types finishes no manifest whose other removals are still to do.
    """
    left = remaining(after)
    return {path: document for path, document in documents.items() if not {action["target"] for action in document.get("actions", [])} & left}


def mark_progress(documents, finished, deleted):
    """Rewrite the manifests this run finished with the time it ended (finished_at), and the others that name a
    virtual device it deleted (``deleted``) with that device in DELETED_LEFTOVERS, so no later run plans it again."""
    finished_at = utc_time()
    for path, document in documents.items():
        if path in finished:
            changes = {"finished_at": finished_at}
        elif _named_virtual(document) & set(deleted):
            changes = {DELETED_LEFTOVERS: sorted(set(document.get(DELETED_LEFTOVERS, [])) | (_named_virtual(document) & set(deleted)))}
        else:
            continue
        write_private_file(path, manifest.to_json(dict(document, **changes)), "manifest_dir", force=True)


def default_device_serial(partition, account_id):
    """Root's virtual device as the console names it by default (arn:...:mfa/root-account-mfa-device)."""
    return "arn:%s:iam::%s:mfa/%s" % (partition, account_id, ROOT_DEVICE_NAME)


def finish_default_device(root_iam, serial, warnings):
    """DeleteVirtualMFADevice of root's default-named device, which a stopped run may have left deactivated; True if it was deleted.

    Neither task policy can list or tag virtual devices, so without a manifest naming it this is the only way to find
    such a leftover: IAM answers NoSuchEntity (no such device) or DeleteConflict (enabled: then ListMFADevices shows it).
    """
    try:
        call(root_iam, "delete_virtual_mfa_device", "DeleteVirtualMFADevice %s (a leftover of a stopped run?)" % serial, SerialNumber=serial)
    except IamGuardError as e:
        if not (is_conflict(e.exception) or is_missing(e.exception)):
            warnings.append("Could not check for a deactivated virtual MFA device of root left by a stopped run: %s" % e.message)
        return False
    return True


def utc_time():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- entry points ---------------------------------------------------------------------------


def prepare(clients, account_id, features_of=centralized_root_access):
    """The checks every run makes, in the order that refuses earliest: caller, target, features (``features_of(iam)``)."""
    caller = caller_identity(clients.sts)
    management = management_account(clients.organizations)
    check_target(account_id, management)
    features = features_of(clients.iam)
    return caller, {"management_account_id": management, **features}


def remove_root(clients, params, check_mode):
    """iam_root_credentials state=absent: plan through the audit policy (check mode) or the delete policy, manifest, apply."""
    options = root_options(params)
    account_id = options["account_id"]
    types = options["credential_types"]
    caller, organization = prepare(clients, account_id)
    blockers, warnings = scp.check_cleanup(clients.organizations, account_id, types, caller["Partition"])
    session = assume_root(clients, account_id, AUDIT_TASK_POLICY if check_mode else DELETE_TASK_POLICY, caller["Partition"])
    root_iam = clients.root_iam(session)
    before = read_credentials(root_iam)
    unfinished = unfinished_manifests(options.get("manifest_dir"), account_id)
    leftovers = leftover_serials(unfinished, before)
    actions = plan_removal(before, types, leftovers)
    result = {"changed": bool(actions), "account_id": account_id, "organization": organization, "credential_types": types,
              "actions": report(actions), "manifest": None, "findings_before": findings(before), "warnings": warnings,
              "scp_blockers": blockers}
    probe = default_device_serial(caller["Partition"], account_id)
    probing = MFA_DEVICES in types and probe not in remaining(before) and probe not in leftovers
    if check_mode or not (actions or probing):
        result["findings_after"] = findings(facts_after(before, types)) if actions else result["findings_before"]
        return result
    if options.get("manifest_dir") and actions:
        document = manifest_document(account_id, before, actions, caller["Arn"], utc_time())
        path = manifest.manifest_path(options["manifest_dir"], account_id, MANIFEST_NAME)
        result["manifest"] = write_private_file(path, manifest.to_json(document), "manifest_dir")
        unfinished[result["manifest"]] = document
    apply(root_iam, actions)
    if probing and finish_default_device(root_iam, probe, result["warnings"]):
        result["actions"].append({"action": "delete_virtual_mfa_device", "target": probe})
        result["changed"] = True
    elif not actions:
        result["findings_after"] = result["findings_before"]
        return result
    after = read_credentials(root_iam)
    mark_progress(unfinished, finished_manifests(unfinished, after), leftovers)
    result["findings_after"] = findings(after)
    return result
