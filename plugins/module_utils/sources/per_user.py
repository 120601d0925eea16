# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory from per-user reads: everything that blocks DeleteUser, one user at a time.

GetUser, GetLoginProfile and one paginated list per kind of dependent. A user
deleted while it is read answers NoSuchEntity, which means "nothing of that kind".
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.devices import user_devices
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, error_code
from ansible_collections.iamguard.aws.plugins.module_utils.paging import iso_date, read


def index_users_by_id(client):
    """One paginated ListUsers walk, indexed by UserId, shared by the whole batch."""
    return {user["UserId"]: user for user in read(client, "list_users", "Users", "ListUsers")}


def get_user(client, name):
    """GetUser as a user record, or None when the user does not exist."""
    response = call(client, "get_user", "GetUser %s" % name, missing_ok=True, UserName=name)
    return user_record(response["User"]) if response else None


def user_record(raw):
    """A GetUser (or GetAccountAuthorizationDetails) user as the collection keeps it."""
    return {
        "user_name": raw["UserName"],
        "user_id": raw["UserId"],
        "arn": raw["Arn"],
        "path": raw.get("Path", "/"),
        "create_date": iso_date(raw.get("CreateDate")),
        "tags": {tag["Key"]: tag["Value"] for tag in raw.get("Tags", [])},
        "permissions_boundary": (raw.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
    }


def inventory(client, user_name, virtual, detailed=False, known_serials=(), parallel=False):
    """Everything about one user that blocks DeleteUser (S6), or None if the user is gone.

    ``mfa_devices`` also holds the user's leftover devices (see ``leftover_devices``).
    ``detailed`` also reads what only the manifest needs: access-key last use,
    SSH key bodies and inline policy documents. ``parallel`` sends the reads at once
    instead of one after the other (see ``_gather``).
    """
    doing = reading(user_name)
    warnings = []
    reads = {
        "user": lambda: get_user(client, user_name),
        "login_profile": lambda: login_profile(client, user_name),
        "access_keys": lambda: access_keys(client, user_name),
        "ssh_public_keys": lambda: ssh_public_keys(client, user_name, warnings),
        "signing_certificates": lambda: signing_certificates(client, user_name),
        "service_specific_credentials": lambda: [
            service_credential_record(cred)
            for cred in _list(client, "list_service_specific_credentials", "ServiceSpecificCredentials", doing % "service-specific credentials", user_name)
        ],
        "mfa_devices": lambda: (user_devices(client, user_name, virtual) or []) + leftover_devices(virtual, user_name, known_serials),
        "groups": lambda: [group["GroupName"] for group in _list(client, "list_groups_for_user", "Groups", doing % "groups", user_name)],
        "inline_policies": lambda: {name: None for name in _list(client, "list_user_policies", "PolicyNames", doing % "inline policies", user_name)},
        "attached_policies": lambda: [
            policy["PolicyArn"] for policy in _list(client, "list_attached_user_policies", "AttachedPolicies", doing % "attached policies", user_name)
        ],
    }
    facts = _gather(reads, parallel)
    if facts is None:
        return None
    facts["warnings"] = warnings
    if detailed:
        add_details(client, facts)
    return facts


def _gather(reads, parallel):
    """{name: read()} in order, or None as soon as the user turns out not to exist.

    One after the other, GetUser first, a missing user costs one call. At once, a user of a
    small batch costs one round trip instead of ten, which is most of its time; each read of a
    missing user answers NoSuchEntity, taken as "none".
    """
    if not parallel:
        facts = {}
        for name, read_one in reads.items():
            facts[name] = read_one()
            if facts["user"] is None:
                return None
        return facts
    with ThreadPoolExecutor(max_workers=len(reads)) as pool:
        futures = {name: pool.submit(read_one) for name, read_one in reads.items()}
        facts = {name: future.result() for name, future in futures.items()}
    return facts if facts["user"] is not None else None


def reading(user_name):
    """The ``doing`` text of a read about ``user_name``, with %s for what is read."""
    return "reading %s of user %s" % ("%s", user_name)


def login_profile(client, user_name):
    """GetLoginProfile as a record, or None when the user has no password (or is gone)."""
    response = call(client, "get_login_profile", reading(user_name) % "the login profile", missing_ok=True, UserName=user_name)
    if not response:
        return None
    profile = response["LoginProfile"]
    return {"create_date": iso_date(profile.get("CreateDate")), "password_reset_required": profile.get("PasswordResetRequired", False)}


def access_keys(client, user_name):
    return [
        {"access_key_id": key["AccessKeyId"], "status": key["Status"], "create_date": iso_date(key.get("CreateDate"))}
        for key in _list(client, "list_access_keys", "AccessKeyMetadata", reading(user_name) % "access keys", user_name)
    ]


def signing_certificates(client, user_name):
    return [
        {"certificate_id": cert["CertificateId"], "status": cert["Status"], "upload_date": iso_date(cert.get("UploadDate")),
         "body": cert.get("CertificateBody")}
        for cert in _list(client, "list_signing_certificates", "Certificates", reading(user_name) % "signing certificates", user_name)
    ]


def service_credential_record(raw):
    """A ListServiceSpecificCredentials entry as the collection keeps it (never a password: IAM lists none)."""
    return {
        "service_specific_credential_id": raw["ServiceSpecificCredentialId"],
        "service_name": raw.get("ServiceName"),
        "service_user_name": raw.get("ServiceUserName"),
        "status": raw.get("Status"),
    }


def ssh_public_keys(client, user_name, warnings):
    """The user's SSH public keys; in a partition without them, none, and a warning added to ``warnings``."""
    try:
        keys = _list(client, "list_ssh_public_keys", "SSHPublicKeys", reading(user_name) % "SSH public keys", user_name)
    except IamGuardError as e:
        if error_code(e.exception) != "InvalidAction":
            raise
        warnings.append("ListSSHPublicKeys is not available in this partition; user %s was taken to have no SSH keys." % user_name)
        return []
    return [{"ssh_public_key_id": key["SSHPublicKeyId"], "status": key["Status"], "upload_date": iso_date(key.get("UploadDate"))} for key in keys]


def leftover_devices(virtual, user_name, known_serials=()):
    """Unassigned virtual devices of ``user_name``: named after the user, or named in an earlier manifest of the user.

    A run stopped between DeactivateMFADevice and DeleteVirtualMFADevice leaves
    such a device, which no longer shows through the user; left alone it would
    outlive the user as an orphan. Deleting it finishes that run's plan.
    """
    leftovers = virtual.unassigned_of(user_name)
    named = {device["serial_number"] for device in leftovers}
    return leftovers + [device for device in virtual.unassigned() if device["serial_number"] in known_serials and device["serial_number"] not in named]


def gone_user_facts(user_name, leftovers):
    """The facts of a user IAM no longer has: nothing but the ``leftovers`` found for the name."""
    user = {"user_name": user_name, "user_id": None, "arn": None, "path": None, "create_date": None, "tags": {}, "permissions_boundary": None}
    empty = {kind: [] for kind in ("access_keys", "ssh_public_keys", "signing_certificates", "service_specific_credentials", "groups", "attached_policies")}
    return dict(empty, user=user, login_profile=None, mfa_devices=leftovers, inline_policies={}, warnings=[])


def _list(client, operation, key, doing, user_name):
    # A user deleted while we read answers NoSuchEntity: nothing left of that kind.
    return read(client, operation, key, doing, missing_ok=True, UserName=user_name) or []


def add_details(client, facts, last_used_known=None):
    """What only the manifest needs: access-key last use, SSH key bodies, inline policy documents not yet known.

    ``last_used_known(key)`` gives a key's last use from elsewhere (the credential report), or None to ask IAM.
    """
    user_name = facts["user"]["user_name"]
    doing = reading(user_name)
    for key in facts["access_keys"]:
        known = last_used_known(key) if last_used_known else None
        if known is not None:
            key["last_used"] = known
            continue
        used = call(client, "get_access_key_last_used", doing % "access key last use", missing_ok=True, AccessKeyId=key["access_key_id"])
        last = (used or {}).get("AccessKeyLastUsed", {})
        key["last_used"] = {"date": iso_date(last.get("LastUsedDate")), "service": last.get("ServiceName"), "region": last.get("Region")}
    for key in facts["ssh_public_keys"]:
        body = call(client, "get_ssh_public_key", doing % "an SSH public key", missing_ok=True,
                    UserName=user_name, SSHPublicKeyId=key["ssh_public_key_id"], Encoding="SSH")
        key["body"] = (body or {}).get("SSHPublicKey", {}).get("SSHPublicKeyBody")
    for name in [name for name, document in facts["inline_policies"].items() if document is None]:
        policy = call(client, "get_user_policy", doing % "an inline policy", missing_ok=True, UserName=user_name, PolicyName=name)
        facts["inline_policies"][name] = (policy or {}).get("PolicyDocument")
