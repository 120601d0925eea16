# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory from per-user reads: everything that blocks DeleteUser, one user at a time.

GetUser, GetLoginProfile and one paginated list per kind of dependent. A user
deleted while it is read answers NoSuchEntity, which means "nothing of that kind".
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.client import IamGuardError, call, error_code, iso_date, read
from ansible_collections.iamguard.aws.plugins.module_utils.mfa import user_devices


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


def gone_user_facts(user_name, leftovers):
    """The facts of a user IAM no longer has: nothing but the ``leftovers`` found for the name."""
    user = {"user_name": user_name, "user_id": None, "arn": None, "path": None, "create_date": None, "tags": {}, "permissions_boundary": None}
    empty = {kind: [] for kind in ("access_keys", "ssh_public_keys", "signing_certificates", "service_specific_credentials", "groups", "attached_policies")}
    return dict(empty, user=user, login_profile=None, mfa_devices=leftovers, inline_policies={}, warnings=[])


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
