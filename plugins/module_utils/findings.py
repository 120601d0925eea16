# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings (pure): their ids, titles, severities and the standards they map to, shared by every audit and the posture report.

STANDARDS is the one table of what each finding id maps to: its AWS Security Hub control,
its CIS AWS Foundations Benchmark v7.0 number and, beside it, the v3.0 number (the
numbers changed between versions; Security Hub's CIS v3.0 standard still uses the old
ones). A finding's ``control`` text is made from it; README's table is checked against it.
"""

from __future__ import annotations

from collections import namedtuple

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
CENTRALIZED_ROOT_ACCESS_DISABLED = "centralized_root_access_disabled"
ROOT_CREDENTIALS_PRESENT = "root_credentials_present"
NO_PHISHING_RESISTANT_MFA = "no_phishing_resistant_mfa"
PASSKEY_NOT_CERTIFIED = "passkey_not_certified"
ACCOUNT_UNREACHABLE = "account_unreachable"

# Worst first: reports sort and count by this order.
SEVERITIES = ("critical", "high", "medium", "low", "informational")

# security_hub, cis_v7, cis_v3: None where the standard has no such control. note: what the control text
# says when no standard has one (an iamguard rule), or beside them.
Standard = namedtuple("Standard", "severity title security_hub cis_v7 cis_v3 note")

STANDARDS = {
    CONSOLE_USER_WITHOUT_MFA: Standard("medium", "User with a console password has no MFA device", "IAM.5", "2.10", "1.10", None),
    USER_WITHOUT_MFA: Standard("medium", "User has no MFA device", "IAM.19", None, None, None),
    ROOT_WITHOUT_MFA: Standard("critical", "Root user has no MFA device", "IAM.9", "2.5", "1.5", None),
    ROOT_VIRTUAL_MFA: Standard("critical", "Root user's MFA device is virtual, not hardware", "IAM.6", "2.6", "1.6", None),
    ROOT_ACCESS_KEY: Standard("critical", "Root user has an access key", "IAM.4", "2.4", "1.4", None),
    ORPHANED_VIRTUAL_MFA_DEVICE: Standard("low", "Virtual MFA device enabled for nobody blocks the next enrolment of that name",
                                          None, None, None, "none (iamguard: cancelled enrolments)"),
    VIRTUAL_MFA_WHERE_HARDWARE_REQUIRED: Standard("high", "User's only MFA is virtual where hardware or a passkey is required",
                                                  None, None, None, "iamguard require_hardware_for"),
    UNUSED_ACCESS_KEY: Standard("medium", "Active access key unused for more than the allowed days", "IAM.22", "2.11", "1.12", None),
    ACCESS_KEY_WITHOUT_MFA: Standard("informational", "User with an active access key has no MFA device", None, None, None, "informational"),
    CENTRALIZED_ROOT_ACCESS_DISABLED: Standard("critical", "Organization has centralized root access (RootCredentialsManagement, RootSessions) off",
                                               None, "2.1.1", None, None),
    ROOT_CREDENTIALS_PRESENT: Standard("high", "Member account's root user still holds a password, access key, signing certificate or MFA device",
                                       None, "2.1.1", None, "related"),
    NO_PHISHING_RESISTANT_MFA: Standard("high", "Console sign-in has no phishing-resistant MFA (passkey or FIDO security key); TOTP codes can be phished",
                                        None, None, None, "iamguard require_phishing_resistant_for"),
    PASSKEY_NOT_CERTIFIED: Standard("low", "Passkey or security key has no FIDO certification", None, None, None,
                                    "iamguard require_phishing_resistant_for (FIDO certification)"),
    ACCOUNT_UNREACHABLE: Standard("high", "The account could not be read, so its posture is unknown", None, None, None,
                                  "none (iamguard: account not audited)"),
}


def control_text(standard):
    """What a finding's ``control`` says, e.g. ``Security Hub IAM.5; CIS AWS Foundations v7.0 2.10 (v3.0 1.10)``."""
    parts = []
    if standard.security_hub:
        parts.append("Security Hub %s" % standard.security_hub)
    if standard.cis_v7:
        cis = "CIS AWS Foundations v7.0 %s" % standard.cis_v7
        parts.append(cis + (" (v3.0 %s)" % standard.cis_v3 if standard.cis_v3 else "") + (" %s" % standard.note if standard.note else ""))
    elif standard.note:
        parts.append(standard.note)
    return "; ".join(parts)


# id: (control, severity, title), what the per-account report writers read.
FINDINGS = {finding_id: (control_text(s), s.severity, s.title) for finding_id, s in STANDARDS.items()}
# What the account-wide MFA audit can raise: not the root credentials audit's own ids, nor the fan-out's (an account it could not read).
ACCOUNT_AUDIT_IDS = tuple(finding_id for finding_id in STANDARDS
                          if finding_id not in (CENTRALIZED_ROOT_ACCESS_DISABLED, ROOT_CREDENTIALS_PRESENT, ACCOUNT_UNREACHABLE))
# What iam_mfa_audit's fail_on (mfa_audit.yml's audit_fail_on) may name.
MFA_AUDIT_FAIL_ON_IDS = ACCOUNT_AUDIT_IDS + (ACCOUNT_UNREACHABLE,)

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


def standards_table():
    """The table as Markdown rows (README shows the same; the posture report appends it)."""
    rows = ["| Finding id | Severity | Security Hub | CIS v7.0 | CIS v3.0 | Title |", "| --- | --- | --- | --- | --- | --- |"]
    for finding_id, s in STANDARDS.items():
        cis_v7 = (s.cis_v7 + (" (%s)" % s.note if s.note else "")) if s.cis_v7 else "-"
        rows.append("| `%s` | %s | %s | %s | %s | %s |" % (finding_id, s.severity, s.security_hub or "-", cis_v7, s.cis_v3 or "-", s.title))
    return rows


def type_by_serial(serial):
    """The type a serial's shape alone suggests (virtual, passkey or hardware)."""
    if any(marker in serial for marker in SERIAL_VIRTUAL_MARKERS):
        return VIRTUAL
    if ":u2f/" in serial:
        return PASSKEY
    return HARDWARE
