# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one user's purge (pure): facts in, ordered Actions out, and what --diff shows.

No client here: check mode reports this list and apply runs the very same one.
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action
from ansible_collections.iamguard.aws.plugins.module_utils.plans.mfa import plan_devices_removal


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
