# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The removal plan of a member account's root credentials (pure: facts in, actions out).

Facts are root.credentials.read_credentials' dict: login_profile, access_keys, signing_certificates, mfa_devices.
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action
from ansible_collections.iamguard.aws.plugins.module_utils.tags import VIRTUAL

LOGIN_PROFILE = "login_profile"
ACCESS_KEYS = "access_keys"
SIGNING_CERTIFICATES = "signing_certificates"
MFA_DEVICES = "mfa_devices"
# In the order they are removed: sign-in first, MFA last.
CREDENTIAL_TYPES = (LOGIN_PROFILE, ACCESS_KEYS, SIGNING_CERTIFICATES, MFA_DEVICES)


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


def remaining(facts):
    """The targets (as the actions name them) that root still has: 'root' for the login profile, key ids, certificate ids, MFA serials."""
    present = {"root"} if facts[LOGIN_PROFILE] else set()
    present.update(key["access_key_id"] for key in facts[ACCESS_KEYS])
    present.update(cert["certificate_id"] for cert in facts[SIGNING_CERTIFICATES])
    present.update(device["serial_number"] for device in facts[MFA_DEVICES])
    return present
