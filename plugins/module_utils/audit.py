# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The account-wide MFA audit: facts from account-wide reads, then pure rules to findings.

Its cost grows with pages, not users: the credential report (per user: password, MFA
active or not, access keys and their use), ListUsers and ListVirtualMFADevices, each
read with the largest page size (paging.paginate). The report can be up to 4 hours old
(IAM builds one at most that often), so the live lists correct it: users deleted since
are dropped, users created since are read one by one, and a user the virtual-device list
shows with a device has MFA. ListMFADevices runs only for the users no account-wide
source can answer for: those with MFA but no virtual device (to tell hardware from
passkey, or find it gone), and those of ``require_hardware_for`` who have a virtual
device (to know whether it is their only one), and console users of
``require_phishing_resistant_for`` who have a virtual device; GetMFADevice only for
the passkeys of those console users (phishing.py).
"""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from datetime import datetime, timedelta, timezone

from ansible_collections.iamguard.aws.plugins.module_utils import audit_report, credential_report, phishing, validation
from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.devices import VirtualDevices, user_devices
from ansible_collections.iamguard.aws.plugins.module_utils.findings import (
    ACCESS_KEY_WITHOUT_MFA, ACCOUNT_AUDIT_IDS, CONSOLE_USER_WITHOUT_MFA, FINDINGS, ORPHANED_VIRTUAL_MFA_DEVICE, ROOT_ACCESS_KEY, ROOT_VIRTUAL_MFA,
    ROOT_WITHOUT_MFA, UNUSED_ACCESS_KEY, USER_WITHOUT_MFA, VIRTUAL_MFA_WHERE_HARDWARE_REQUIRED, finding, type_by_serial,
)
from ansible_collections.iamguard.aws.plugins.module_utils.paging import iso_date, read
from ansible_collections.iamguard.aws.plugins.module_utils.tags import HARDWARE, PASSKEY, VIRTUAL

# The ids this audit can find; the other two are the root credentials audit's (iam_root_credentials_info).
AUDIT_FINDINGS = {finding_id: FINDINGS[finding_id] for finding_id in ACCOUNT_AUDIT_IDS}
AUDIT_FINDING_IDS = tuple(AUDIT_FINDINGS)
NEVER = "never"

# --- options -----------------------------------------------------------------------


def audit_options(params):
    """Validated iam_mfa_audit options, or InvalidInput before any AWS call."""
    options = dict(params)
    for option in ("require_hardware_for", "require_phishing_resistant_for"):
        for pattern in options[option]:
            if not isinstance(pattern, str) or not pattern.strip():
                raise validation.InvalidInput(option, pattern, "each entry is a user name or glob pattern, not empty")
    if options["unused_access_key_days"] < 1:
        raise validation.InvalidInput("unused_access_key_days", options["unused_access_key_days"], "at least 1")
    if options["max_report_age_hours"] is not None and options["max_report_age_hours"] < 1:
        raise validation.InvalidInput("max_report_age_hours", options["max_report_age_hours"], "at least 1 (hours)")
    validation.report_wait_seconds(options["report_wait_seconds"])
    folder = options["report_dir"]
    if folder is not None and (os.path.islink(folder) or not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK)):
        raise validation.InvalidInput("report_dir", folder, "must be an existing, writable folder, not a symbolic link")
    if not options["report_formats"]:
        raise validation.InvalidInput("report_formats", [], "name at least one of markdown, json, csv")
    return options


# --- rules (pure) -------------------------------------------------------------------


def requires_hardware(user_name, patterns):
    """The first require_hardware_for pattern matching ``user_name`` (case-insensitive, as IAM names are), or None."""
    folded = user_name.lower()
    return next((pattern for pattern in patterns if fnmatch.fnmatchcase(folded, pattern.lower())), None)


def root_findings(row, root_device):
    """Findings of the ``<root_account>`` row; ``root_device`` is root's virtual device or None."""
    findings = []
    if not credential_report.flag(row["mfa_active"]):
        findings.append(finding(ROOT_WITHOUT_MFA))
    elif root_device:
        findings.append(finding(ROOT_VIRTUAL_MFA, serial_number=root_device["serial_number"]))
    for key in credential_report.access_keys(row):
        findings.append(
            finding(ROOT_ACCESS_KEY, access_key=key["number"], active=key["active"], last_used=iso_date(key["last_used"]))
        )
    return findings


def unused_key_findings(user_name, keys, unused_days, now):
    """Active keys not used for more than ``unused_days``; a never-used key counts from its creation or last rotation."""
    findings = []
    for key in keys:
        since = key["last_used"] or key["last_rotated"]
        if not key["active"] or since is None or now - since <= timedelta(days=unused_days):
            continue
        findings.append(
            finding(
                UNUSED_ACCESS_KEY,
                user_name,
                access_key=key["number"],
                last_used=iso_date(key["last_used"]),
                last_rotated=iso_date(key["last_rotated"]),
                days_unused=(now - since).days,
            )
        )
    return findings


def user_findings(row, devices, options, now):
    """Findings of one user's report row; ``devices``: the user's typed devices known to the audit."""
    name = row["user"]
    findings = []
    keys = credential_report.access_keys(row)
    active_keys = [key["number"] for key in keys if key["active"]]
    if not credential_report.flag(row["mfa_active"]):
        if credential_report.flag(row["password_enabled"]):
            findings.append(finding(CONSOLE_USER_WITHOUT_MFA, name, password_last_used=row["password_last_used"]))
        findings.append(finding(USER_WITHOUT_MFA, name, console_access=credential_report.flag(row["password_enabled"])))
        if active_keys:
            findings.append(finding(ACCESS_KEY_WITHOUT_MFA, name, active_access_keys=active_keys))
    pattern = requires_hardware(name, options["require_hardware_for"])
    if pattern and devices and all(device["type"] == VIRTUAL for device in devices):
        serials = [device["serial_number"] for device in devices]
        findings.append(finding(VIRTUAL_MFA_WHERE_HARDWARE_REQUIRED, name, serials[0], pattern=pattern, devices=serials))
    pattern = requires_phishing_resistant(row, options["require_phishing_resistant_for"])
    if pattern:
        findings.extend(phishing.findings(name, devices, pattern=pattern))
    findings.extend(unused_key_findings(name, keys, options["unused_access_key_days"], now))
    return findings


def orphan_finding(device):
    # age_minutes / created_at come from the device's creation tag when the collection created it; None otherwise.
    return finding(
        ORPHANED_VIRTUAL_MFA_DEVICE,
        serial_number=device["serial_number"],
        age_minutes=device.get("age_minutes"),
        created_at=device.get("created_at"),
    )


def type_differences(devices):
    """Devices whose type by serial shape (the serial-only rule) differs from ours (membership of the virtual list)."""
    return [
        {"user_name": device["user_name"], "serial_number": device["serial_number"], "type": device["type"],
         "type_by_serial": type_by_serial(device["serial_number"])}
        for device in devices
        if type_by_serial(device["serial_number"]) != device["type"]
    ]


def requires_phishing_resistant(row, patterns):
    """The require_phishing_resistant_for pattern matching a console user's row, or None (no password: nothing to phish)."""
    return requires_hardware(row["user"], patterns) if credential_report.flag(row["password_enabled"]) else None


def password_last_used(row, user):
    """When the user last signed in with the password, ISO 8601, or "never": ListUsers' live PasswordLastUsed, else the
    report's column (N/A - no password; no_information - not used since IAM began tracking in 2014)."""
    value = iso_date((user or {}).get("PasswordLastUsed")) or row.get("password_last_used")
    return value if value and value[:1].isdigit() else NEVER


def recent_sign_ins_first(findings):
    """console_user_without_mfa findings, the most recent sign-in first ("never" last; ties by name, the order they come in)."""
    console = [item for item in findings if item["id"] == CONSOLE_USER_WITHOUT_MFA]
    return sorted(console, key=lambda item: "" if item["detail"]["password_last_used"] == NEVER else item["detail"]["password_last_used"],
                  reverse=True)


def evaluate(rows, devices_by_user, root_device, orphans, options, now):
    """All findings, in a stable order: root, then console users without MFA by their last sign-in (most recent first), then
    the other findings of users by name, then orphans by serial."""
    findings = []
    for row in rows:
        if row["user"] == credential_report.ROOT_USER:
            findings.extend(root_findings(row, root_device))
    users = []
    for row in sorted((row for row in rows if row["user"] != credential_report.ROOT_USER), key=lambda row: row["user"].lower()):
        users.extend(user_findings(row, devices_by_user.get(row["user"].lower(), []), options, now))
    findings.extend(recent_sign_ins_first(users))
    findings.extend(item for item in users if item["id"] != CONSOLE_USER_WITHOUT_MFA)
    findings.extend(orphan_finding(device) for device in orphans)
    return findings


def counts(findings):
    counted = Counter(item["id"] for item in findings)
    return {finding_id: counted[finding_id] for finding_id in AUDIT_FINDING_IDS}


def device_mix(devices):
    counted = Counter(device["type"] for device in devices)
    return {kind: counted[kind] for kind in (VIRTUAL, HARDWARE, PASSKEY)}


def summary_lines(result):
    lines = [
        "Account %s: %d users audited, credential report generated %s (%.1f hours old)."
        % (result["account_id"], result["users_audited"], result["credential_report"]["generated_time"], result["credential_report"]["age_hours"])
    ]
    found = {finding_id: n for finding_id, n in result["counts"].items() if n}
    if found:
        lines.extend("%s: %d - %s" % (finding_id, n, FINDINGS[finding_id][0]) for finding_id, n in found.items())
    else:
        lines.append("No findings.")
    lines.append(device_mix_text(result["device_mix"], result["device_mix_users_listed"]))
    return lines


def device_mix_text(mix, users_listed):
    """What device_mix counts, said as such: every virtual device, but tokens and passkeys of the listed users only."""
    return ("MFA devices: %d virtual (every one in the account); %d hardware and %d passkey among the %d users whose devices were "
            "listed (a hardware token or passkey beside a virtual device is listed only under require_hardware_for)."
            % (mix[VIRTUAL], mix[HARDWARE], mix[PASSKEY], users_listed))


# --- facts (AWS reads) --------------------------------------------------------------


def account_of(rows):
    """The account id, from the report's ARNs (the root row's comes first)."""
    for row in rows:
        if row["arn"].startswith("arn:"):
            return row["arn"].split(":")[4]
    return None


def users_to_list(rows, virtual_by_user, options):
    """Users whose devices only ListMFADevices can tell: MFA on but no virtual device, or hardware or (for a console user) a
    passkey required but a virtual one seen."""
    names = []
    for row in rows:
        name = row["user"]
        # MFA that only a live list shows (enrolled after the report) counts too.
        if name == credential_report.ROOT_USER or not (credential_report.flag(row["mfa_active"]) or virtual_by_user.get(name.lower())):
            continue
        if (not virtual_by_user.get(name.lower()) or requires_hardware(name, options["require_hardware_for"])
                or requires_phishing_resistant(row, options["require_phishing_resistant_for"])):
            names.append(name)
    return names


def flag_text(value):
    """A truth value as the credential report writes it."""
    return "true" if value else "false"


def live_row(client, user, devices):
    """A report row read live for a user created after the report, whose typed ``devices`` are known; None once deleted.

    Its keys are younger than the report (at most 4 hours), so their last use cannot
    make an unused-key finding: the row leaves it unknown (N/A) and spares a call per key.
    """
    name = user["UserName"]
    keys = read(client, "list_access_keys", "AccessKeyMetadata", "ListAccessKeys for %s" % name, missing_ok=True, UserName=name)
    if keys is None:
        return None
    profile = call(client, "get_login_profile", "GetLoginProfile %s" % name, missing_ok=True, UserName=name)
    row = {"user": name, "arn": user["Arn"], "user_creation_time": iso_date(user.get("CreateDate")),
           "password_enabled": flag_text(profile), "mfa_active": flag_text(devices), "password_last_used": "N/A"}
    keys = sorted(keys, key=lambda key: key["CreateDate"])
    for number in credential_report.ACCESS_KEY_NUMBERS:
        key = keys[number - 1] if len(keys) >= number else None
        prefix = "access_key_%d_" % number
        row.update({prefix + "active": flag_text(key and key["Status"] == "Active"),
                    prefix + "last_rotated": iso_date(key["CreateDate"]) if key else "N/A", prefix + "last_used_date": "N/A"})
    return row


def audit(client, options, now=None):
    """The audit result (see iam_mfa_audit's RETURN); reads only. ``now`` defaults to the time the report arrived."""
    answer = credential_report.fetch(client, options["report_wait_seconds"])
    now = now or datetime.now(timezone.utc)
    generated = answer["GeneratedTime"]
    credential_report.check_age(generated, now, options["max_report_age_hours"])
    report_rows = credential_report.parse(answer["Content"])
    current = {user["UserName"].lower(): user for user in read(client, "list_users", "Users", "ListUsers")}
    virtual = VirtualDevices(client)
    described = virtual.described()
    root_device = next((device for device in described if device["root"] and device["assigned"]), None)
    # What the live lists know of each user's devices; everyone else keeps the report's mfa_active.
    devices_by_user = {}
    for device in described:
        if device["assigned"] and device["user_name"]:
            devices_by_user.setdefault(device["user_name"].lower(), []).append(device)
    # Rows of users deleted since the report are dropped; so is the row of a name deleted and
    # created again since (another user, read live below like any user created after the report).
    by_name = {row["user"].lower(): row for row in report_rows if row["user"] != credential_report.ROOT_USER}
    reported = {key for key, user in current.items() if credential_report.row_of(by_name, user)}
    rows = [row for row in report_rows if row["user"] == credential_report.ROOT_USER or row["user"].lower() in reported]
    users_listed = 0  # whose every device is known (ListMFADevices), not only a virtual one
    for name in users_to_list(rows, devices_by_user, options):
        listed = user_devices(client, name, virtual)
        if listed is not None:  # None: deleted since ListUsers
            devices_by_user[name.lower()] = listed
            users_listed += 1
    for key in sorted(set(current) - reported):
        listed = user_devices(client, current[key]["UserName"], virtual)
        row = live_row(client, current[key], listed) if listed is not None else None
        if row:
            devices_by_user[key] = listed
            rows.append(row)
            users_listed += 1
    rows = [row if row["user"].lower() not in devices_by_user else dict(row, mfa_active=flag_text(devices_by_user[row["user"].lower()]))
            for row in rows]
    rows = [row if row["user"] == credential_report.ROOT_USER else dict(row, password_last_used=password_last_used(row, current.get(row["user"].lower())))
            for row in rows]
    for row in rows:
        if row["user"].lower() in devices_by_user and requires_phishing_resistant(row, options["require_phishing_resistant_for"]):
            devices_by_user[row["user"].lower()] = phishing.certify_passkeys(client, row["user"], devices_by_user[row["user"].lower()])
    all_user_devices = [device for devices in devices_by_user.values() for device in devices]
    findings = evaluate(rows, devices_by_user, root_device, virtual.orphans(), options, now)
    result = {
        "changed": False,
        "account_id": account_of(rows),
        "findings": findings,
        "counts": counts(findings),
        "device_mix": device_mix(all_user_devices + ([root_device] if root_device else [])),
        "device_mix_users_listed": users_listed,
        "type_differences": type_differences(all_user_devices),
        "passkeys_checked": [{key: device[key] for key in ("user_name", "serial_number", "certifications")}
                             for device in all_user_devices if "certifications" in device],
        "credential_report": {"generated_time": iso_date(generated), "age_hours": credential_report.age_hours(generated, now)},
        "users_audited": sum(1 for row in rows if row["user"] != credential_report.ROOT_USER),
    }
    result["summary"] = summary_lines(result)
    return result


def audit_and_report(client, params):
    """iam_mfa_audit's work: check the options, audit, and write the report set when asked (also in check mode: it changes no AWS state)."""
    options = audit_options(params)
    result = audit(client, options)
    if options["report_dir"]:
        written_at = datetime.now(timezone.utc)
        result["report_files"] = audit_report.write_reports(options["report_dir"], result, options["report_formats"], written_at, AUDIT_FINDINGS,
                                                            device_mix_text(result["device_mix"], result["device_mix_users_listed"]))
    return result
