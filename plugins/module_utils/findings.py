# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings (pure): their ids, titles, severities and control mappings, shared by the MFA audit and the root credentials audit."""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.tags import HARDWARE, PASSKEY, VIRTUAL

CONSOLE_USER_WITHOUT_MFA = "console_user_without_mfa"
USER_WITHOUT_MFA = "user_without_mfa"
ROOT_WITHOUT_MFA = "root_without_mfa"
ROOT_VIRTUAL_MFA = "root_virtual_mfa"
ROOT_ACCESS_KEY = "root_access_key"
ORPHANED_VIRTUAL_MFA_DEVICE = "orphaned_virtual_mfa_device"
VIRTUAL_MFA_WHERE_HARDWARE_REQUIRED = "virtual_mfa_where_hardware_required"
UNUSED_ACCESS_KEY = "unused_access_key"
ACCESS_KEY_WITHOUT_MFA = "access_key_without_mfa"
# issue #21's checks
CENTRALIZED_ROOT_ACCESS_DISABLED = "centralized_root_access_disabled"
ROOT_CREDENTIALS_PRESENT = "root_credentials_present"
NO_PHISHING_RESISTANT_MFA = "no_phishing_resistant_mfa"
PASSKEY_NOT_CERTIFIED = "passkey_not_certified"

# id: (control, severity, title). CIS numbers change between versions, so each names its version.
FINDINGS = {
    CONSOLE_USER_WITHOUT_MFA: (
        "Security Hub IAM.5; CIS AWS Foundations v3.0 1.10",
        "medium",
        "User with a console password has no MFA device",
    ),
    USER_WITHOUT_MFA: ("Security Hub IAM.19", "medium", "User has no MFA device"),
    ROOT_WITHOUT_MFA: ("Security Hub IAM.9; CIS AWS Foundations v3.0 1.5", "critical", "Root user has no MFA device"),
    ROOT_VIRTUAL_MFA: (
        "Security Hub IAM.6; CIS AWS Foundations v3.0 1.6",
        "critical",
        "Root user's MFA device is virtual, not hardware",
    ),
    ROOT_ACCESS_KEY: ("Security Hub IAM.4; CIS AWS Foundations v3.0 1.4", "critical", "Root user has an access key"),
    ORPHANED_VIRTUAL_MFA_DEVICE: (
        "none (iamguard: cancelled enrolments)",
        "low",
        "Virtual MFA device enabled for nobody blocks the next enrolment of that name",
    ),
    VIRTUAL_MFA_WHERE_HARDWARE_REQUIRED: (
        "iamguard require_hardware_for",
        "high",
        "User's only MFA is virtual where hardware or a passkey is required",
    ),
    UNUSED_ACCESS_KEY: (
        "Security Hub IAM.22; CIS AWS Foundations v3.0 1.12",
        "medium",
        "Active access key unused for more than the allowed days",
    ),
    ACCESS_KEY_WITHOUT_MFA: ("informational", "informational", "User with an active access key has no MFA device"),
    # issue #21's checks (one block, kept together)
    CENTRALIZED_ROOT_ACCESS_DISABLED: (
        "CIS AWS Foundations v7.0 2.1.1",
        "critical",
        "Organization has centralized root access (RootCredentialsManagement, RootSessions) off",
    ),
    ROOT_CREDENTIALS_PRESENT: (
        "iamguard centralized root access (a member account's root needs no credentials)",
        "high",
        "Member account's root user still holds a password, access key, signing certificate or MFA device",
    ),
    NO_PHISHING_RESISTANT_MFA: (
        "iamguard require_phishing_resistant_for (phishing-resistant MFA - a passkey or FIDO security key)",
        "high",
        "Console sign-in has no phishing-resistant MFA (passkey or FIDO security key); TOTP codes can be phished",
    ),
    PASSKEY_NOT_CERTIFIED: ("iamguard require_phishing_resistant_for (FIDO certification)", "low", "Passkey or security key has no FIDO certification"),
}

# How a device is typed from its serial alone, as serial-only scanners (e.g. Prowler) do; stated so differences can be reported.
SERIAL_VIRTUAL_MARKERS = (":mfa/", ":sms-mfa/")


def finding(finding_id, user_name=None, serial_number=None, **detail):
    control, severity, title = FINDINGS[finding_id]
    return {
        "id": finding_id,
        "control": control,
        "severity": severity,
        "title": title,
        "user_name": user_name,
        "serial_number": serial_number,
        "detail": detail,
    }


def type_by_serial(serial):
    """The type a serial's shape alone suggests (virtual, passkey or hardware)."""
    if any(marker in serial for marker in SERIAL_VIRTUAL_MARKERS):
        return VIRTUAL
    if ":u2f/" in serial:
        return PASSKEY
    return HARDWARE
