# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phishing-resistant MFA: the rules (pure) and the one read they add (GetMFADevice of a passkey).

Only a passkey or FIDO security key (a ``:u2f/`` serial) resists phishing: WebAuthn binds its answer to
the sign-in page's origin, so a look-alike page gets nothing it can replay. A virtual authenticator app
and a hardware TOTP token both show a code that a person can type into a fake page, so neither counts.
The rules apply to console sign-in (a password): access keys are not phished through a sign-in page.

IAM GetMFADevice answers a FIDO device's ``Certifications`` (its FIDO certification level, FIPS
levels); an empty answer means the device has none, and ``passkey_not_certified`` says so.
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.findings import NO_PHISHING_RESISTANT_MFA, PASSKEY_NOT_CERTIFIED, finding
from ansible_collections.iamguard.aws.plugins.module_utils.tags import PASSKEY


def certifications(client, user_name, serial):
    """The passkey's certifications ({"FIDO": "L1"}, {} for none), or None when the device is gone meanwhile."""
    answer = call(client, "get_mfa_device", "GetMFADevice %s of %s" % (serial, user_name), missing_ok=True, SerialNumber=serial, UserName=user_name)
    return None if answer is None else dict(answer.get("Certifications") or {})


def certify_passkeys(client, user_name, devices):
    """Put each passkey's certifications into its device facts (one GetMFADevice per passkey); a passkey gone meanwhile is dropped."""
    checked = []
    for device in devices:
        if device["type"] != PASSKEY:
            checked.append(device)
            continue
        found = certifications(client, user_name, device["serial_number"])
        if found is not None:
            checked.append(dict(device, certifications=found))
    return checked


def findings(user_name, devices, **detail):
    """``no_phishing_resistant_mfa`` when a console sign-in has no passkey among ``devices`` (its every device, typed), and
    ``passkey_not_certified`` for each passkey whose certifications were read and are empty. ``user_name`` None is root."""
    passkeys = [device for device in devices if device["type"] == PASSKEY]
    found = []
    if not passkeys:
        found.append(finding(NO_PHISHING_RESISTANT_MFA, user_name, device_types=sorted({device["type"] for device in devices}), **detail))
    found.extend(finding(PASSKEY_NOT_CERTIFIED, user_name, device["serial_number"], certifications={}, **detail)
                 for device in passkeys if device.get("certifications") == {})
    return found
