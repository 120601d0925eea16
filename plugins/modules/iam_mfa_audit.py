#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_mfa_audit
version_added: 0.1.0
short_description: Audit the MFA and access keys of a whole AWS account, with stable finding ids
description:
  - Reads the account's IAM credential report, its virtual MFA devices and its users, and returns findings, each with a
    stable id, the user or device serial it is about, and the control it maps to (AWS Security Hub, with the CIS AWS
    Foundations Benchmark number of the version named).
  - Its cost grows with pages, not users. GenerateCredentialReport and GetCredentialReport (waiting at most
    O(report_wait_seconds) while IAM builds the report), then ListUsers and ListVirtualMFADevices with 1000 items a page,
    which set the report against the account as it is now (see the notes). ListMFADevices runs only for users with MFA but
    no virtual device (to tell a hardware token from a passkey, or see that it is gone) and for users matching
    O(require_hardware_for) who have a virtual device (to know whether it is their only one).
  - "Finding ids: C(console_user_without_mfa) (Security Hub IAM.5, CIS AWS Foundations v3.0 1.10): a user with a console
    password and no MFA device. C(user_without_mfa) (IAM.19): any user without an MFA device. C(root_without_mfa) (IAM.9,
    CIS v3.0 1.5): the root user has no MFA. C(root_virtual_mfa) (IAM.6, CIS v3.0 1.6): root's MFA device is virtual.
    C(root_access_key) (IAM.4, CIS v3.0 1.4): root has an access key, active or not, one finding per key.
    C(orphaned_virtual_mfa_device) (no Security Hub control): a virtual device enabled for nobody, with its age when
    known; such leftovers of cancelled enrolments block the next enrolment of the same name; root's device is never one.
    C(virtual_mfa_where_hardware_required): a user matching O(require_hardware_for) whose only MFA devices are virtual.
    C(unused_access_key) (IAM.22, CIS v3.0 1.12): an active access key not used for more than O(unused_access_key_days)
    days; a key never used counts from its creation or last rotation. C(access_key_without_mfa) (informational): a user
    with an active access key and no MFA device. C(no_phishing_resistant_mfa) (high): a console user matching
    O(require_phishing_resistant_for) with no passkey or FIDO security key (no MFA at all counts too).
    C(passkey_not_certified) (low): a passkey of such a user for which IAM GetMFADevice answers no certification."
  - "Phishing-resistant MFA, as this collection defines it: a passkey or FIDO security key (a C(:u2f/) serial), whose
    WebAuthn answer is bound to the real sign-in page. A virtual authenticator app and a hardware TOTP token both show a
    code a person can type into a look-alike page, so neither is phishing resistant. Only console users (a password) are
    checked; root's devices are checked by M(iamguard.aws.iam_root_credentials_info)."
  - "Findings come root's first, then the C(console_user_without_mfa) findings ranked by the user's last console sign-in,
    most recent first (detail C(password_last_used), ISO 8601 or V(never); from ListUsers' live C(PasswordLastUsed), else
    the report), then the other findings of users by name, then orphaned devices."
  - A device is virtual when it is in the account's virtual device list; a C(:u2f/) serial is a passkey or security key;
    anything else is a hardware token. RV(type_differences) lists the devices a serial-shape rule (as Prowler uses)
    would type differently.
  - "Many accounts in one run: with O(accounts), every account is audited side by side (O(max_workers) at a time), each
    through a session of its own (STS AssumeRole into its C(role_arn) with the task's credentials), its clients made from
    one SDK session, paced by IAM's throttle of that account and retried on their own. Each account's report set is
    written as soon as it is audited, every file of the run with the same UTC time. An account that cannot be read (its
    role missing or refused, a service control policy's deny, throttled out after the retries, any other AWS error) is
    listed in RV(unreachable_accounts) with the error code and a one-line reason, gets a JSON report that says so, and the others
    go on."
  - Reads only and never changes IAM, also outside check mode. With O(report_dir) it writes the report set, also in check
    mode, since that changes nothing in AWS.
author:
  - iamguard maintainers (@iamguard)
options:
  require_hardware_for:
    description:
      - User names or glob patterns (case-insensitive, as IAM user names) of users who must have a hardware token or a
        passkey, such as break-glass users or administrators. A matching user whose only MFA devices are virtual gets a
        C(virtual_mfa_where_hardware_required) finding.
    type: list
    elements: str
    default: []
  require_phishing_resistant_for:
    description:
      - User names or glob patterns (case-insensitive) of console users who must have a passkey or FIDO security key, the
        only phishing-resistant MFA (see the description). A matching user with a password and no passkey gets a
        C(no_phishing_resistant_mfa) finding; each passkey of a matching console user is read with IAM GetMFADevice, and one
        without a FIDO certification gets C(passkey_not_certified). Use V(*) for every console user.
      - Off by default, because it costs calls per user - one ListMFADevices for each matching console user who has a
        virtual device (the account-wide list cannot tell whether such a user also has a passkey) and one GetMFADevice per
        passkey of a matching console user. Console users without MFA and those whose devices are listed anyway cost
        nothing more.
    type: list
    elements: str
    default: []
  unused_access_key_days:
    description:
      - An active access key not used for more than this many days gets an C(unused_access_key) finding. Security Hub
        IAM.22 uses 45.
    type: int
    default: 45
  max_report_age_hours:
    description:
      - Fail, with nothing changed, when the newest credential report is older than this many hours after asking IAM
        for a new one. IAM builds a new report at most every 4 hours, so a value under 4 can fail until then.
      - Unset, a report of any age is audited; its age is in RV(credential_report).
    type: int
  report_wait_seconds:
    description:
      - How long to wait for IAM to build the credential report, between 0 and 3600. The task fails when it is not ready by then.
    type: int
    default: 120
  report_dir:
    description:
      - An absolute path (C(~) is expanded; a relative path is refused). A missing folder, and each missing parent, is created
        with mode 0700 (also in check mode, where the audit writes its reports too); an existing folder's mode is never changed. A
        symbolic link or a file is refused before any AWS call, with a message naming this option.
      - The folder to write the report set to, as files named C(mfa-audit-<account id>-<UTC time YYYYmmddTHHMMSSZ>)
        with the extensions C(.md), C(.json) and C(.csv), each readable only by its owner (mode 0600).
      - The Markdown report starts with a summary table and then lists the findings grouped by control.
    type: path
  report_formats:
    description:
      - Which files of the report set to write to O(report_dir).
    type: list
    elements: str
    choices: [markdown, json, csv]
    default: [markdown, json, csv]
  accounts:
    description:
      - The accounts to audit in this run. Each entry has C(account_id) (12 digits), C(role_arn) (an IAM role of that
        account to assume; without it the task's own credentials are used and must be of that account), C(name) (how
        the account is called in the results and reports; default its id) and C(role_session_name) (default
        O(role_session_name)).
      - An entry with neither C(account_id) nor C(role_arn) is the account of the task's own credentials.
      - Unset, the account of the task's credentials is audited and the result has the keys of a one-account audit.
    type: list
    elements: dict
  max_workers:
    description: How many accounts are audited at the same time (1 to 64), with O(accounts).
    type: int
    default: 16
  role_session_name:
    description: The session name of the AssumeRole calls (CloudTrail shows it in each account).
    type: str
    default: iamguard-aws
  fail_on:
    description:
      - Finding ids that fail the task when found in an account, after every report is written; C(account_unreachable)
        also fails it when an account could not be read. Other findings and unreachable accounts never fail it.
    type: list
    elements: str
    default: []
notes:
  - "Permissions in each account of O(accounts): C(sts:AssumeRole) of its C(role_arn) for the task's credentials, and
    the IAM permissions below for the role."
  - "IAM permissions: C(iam:GenerateCredentialReport), C(iam:GetCredentialReport), C(iam:ListVirtualMFADevices),
    C(iam:ListUsers), C(iam:ListMFADevices), C(iam:ListAccessKeys), C(iam:GetLoginProfile); with
    O(require_phishing_resistant_for) also C(iam:GetMFADevice)."
  - IAM builds at most one credential report every 4 hours, so right after an offboarding or an enrolment the report still
    shows the old account. The live lists correct it on every run. Users deleted since the report are left out. Users
    created since are read one by one (ListMFADevices, ListAccessKeys, GetLoginProfile) and audited like the others. A user
    the virtual-device list shows with an assigned device has MFA, and a user the report shows with MFA but whose devices
    ListMFADevices finds gone has none. A hardware token or passkey enabled after the report for a user the report shows
    without MFA is seen only with the next report.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Audit MFA across the account and write the report set
  iamguard.aws.iam_mfa_audit:
    require_hardware_for: [break-glass-*, admin-*]
    require_phishing_resistant_for: [break-glass-*, admin-*]
    report_dir: /var/lib/iamguard/reports
  register: audit

- name: Show what a person reads
  ansible.builtin.debug:
    var: audit.summary

- name: Fail when a console user has no MFA
  ansible.builtin.assert:
    that: audit.counts.console_user_without_mfa == 0
    fail_msg: "{{ audit.findings | selectattr('id', 'equalto', 'console_user_without_mfa') | map(attribute='user_name') | list }}"

- name: Audit every account of an organization in one run, 16 at a time, failing on console users without MFA
  iamguard.aws.iam_mfa_audit:
    accounts:
      - {account_id: "210987654321", role_arn: "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole", name: dev}
      - {account_id: "310987654321", role_arn: "arn:aws:iam::310987654321:role/OrganizationAccountAccessRole", name: prod}
    fail_on: [console_user_without_mfa, account_unreachable]
    report_dir: /var/lib/iamguard/reports
  register: org_audit

- name: Demand a report at most 6 hours old, and JSON only
  iamguard.aws.iam_mfa_audit:
    max_report_age_hours: 6
    report_dir: /tmp/audit
    report_formats: [json]
"""

RETURN = r"""
account_id:
  description: The audited account, from the credential report.
  returned: without O(accounts)
  type: str
  sample: "123456789012"
findings:
  description:
    - The findings, root's first, then console users without MFA by their last sign-in (most recent first), then the other
      findings of users by name, then orphaned devices.
  returned: without O(accounts)
  type: list
  elements: dict
  contains:
    id:
      description: The finding id (see the description).
      type: str
    control:
      description: The control the finding maps to.
      type: str
    severity:
      description: C(critical), C(high), C(medium), C(low) or C(informational).
      type: str
    title:
      description: What the finding means, in a sentence.
      type: str
    user_name:
      description: The user concerned; null for root's findings and orphaned devices (the Markdown report says C(root user) or C(nobody)).
      type: str
    serial_number:
      description: The device concerned, if any.
      type: str
    detail:
      description:
        - Facts behind the finding (for example access key number, days unused, device age in minutes; C(password_last_used)
          of a console user without MFA; C(device_types) of one without phishing-resistant MFA; a passkey's C(certifications)).
      type: dict
  sample: [{"id": "console_user_without_mfa", "control": "Security Hub IAM.5; CIS AWS Foundations v7.0 2.10 (v3.0 1.10)", "severity": "medium",
            "title": "User with a console password has no MFA device", "user_name": "alice", "serial_number": null,
            "detail": {"password_last_used": "2026-11-24T16:03:11+00:00"}}]
counts:
  description: The number of findings of each id, zeros included.
  returned: without O(accounts)
  type: dict
  sample: {"console_user_without_mfa": 1, "user_without_mfa": 3, "root_without_mfa": 0, "root_virtual_mfa": 1, "root_access_key": 0,
           "orphaned_virtual_mfa_device": 2, "virtual_mfa_where_hardware_required": 0, "unused_access_key": 1, "access_key_without_mfa": 2,
           "no_phishing_resistant_mfa": 1, "passkey_not_certified": 0}
device_mix:
  description:
    - MFA devices by type. Every virtual device enabled for someone (root's included), and the hardware tokens and passkeys
      of the users whose devices were listed; a user outside O(require_hardware_for) with a virtual device counts that one only.
  returned: without O(accounts)
  type: dict
  sample: {"virtual": 40, "hardware": 3, "passkey": 5}
device_mix_users_listed:
  description: The number of users whose every device was listed (ListMFADevices), the scope of RV(device_mix)'s hardware and passkey counts.
  returned: without O(accounts)
  type: int
  sample: 8
passkeys_checked:
  description:
    - The passkeys read with GetMFADevice (those of console users matching O(require_phishing_resistant_for)), with
      C(user_name), C(serial_number) and C(certifications) (as IAM answers them, such as FIDO level L1 - empty when none).
  returned: always
  type: list
  elements: dict
  sample: [{"user_name": "admin-ana", "serial_number": "arn:aws:iam::123456789012:u2f/user/admin-ana/key-EXAMPLE", "certifications": {"FIDO": "L1"}}]
type_differences:
  description: Devices a serial-shape rule would type differently, with C(user_name), C(serial_number), C(type) and C(type_by_serial).
  returned: without O(accounts)
  type: list
  elements: dict
credential_report:
  description: When the audited credential report was generated (ISO 8601) and its age in hours.
  returned: without O(accounts)
  type: dict
  sample: {"generated_time": "2026-11-25T08:00:00+00:00", "age_hours": 0.02}
users_audited:
  description: The number of users audited, the account's users at the time of the run.
  returned: without O(accounts)
  type: int
report_files:
  description: Paths of the files written, by format.
  returned: when O(report_dir) is set, without O(accounts)
  type: dict
  sample: {"markdown": "/tmp/audit/mfa-audit-123456789012-20261125T080102Z.md"}
summary:
  description: Short lines a person reads (with O(accounts), the totals and the unreachable accounts).
  returned: always
  type: list
  elements: str
generated_time:
  description: The UTC time (YYYYmmddTHHMMSSZ) in the name of every report file of the run.
  returned: with O(accounts)
  type: str
  sample: "20261125T080102Z"
accounts:
  description:
    - Each account audited, in the order of O(accounts) - C(account_id), C(name), C(users_audited), C(counts), C(summary),
      C(failing) (the ids of O(fail_on) found) and C(report_files). Its findings are in its report files.
  returned: with O(accounts)
  type: list
  elements: dict
  sample: [{"account_id": "210987654321", "name": "dev", "users_audited": 5, "counts": {"console_user_without_mfa": 1},
            "summary": ["Account 210987654321: 5 users audited"], "failing": [],
            "report_files": {"json": "/tmp/r/mfa-audit-210987654321-20261125T080102Z.json"}}]
unreachable_accounts:
  description:
    - (Not C(unreachable), which Ansible reads as the host being unreachable.)
    - Each account that could not be read - C(account_id), C(name), C(code) (the AWS error code, such as C(AccessDenied)
      or C(Throttling)), C(message) (one line) and C(report_file) (with O(report_dir)).
  returned: with O(accounts)
  type: list
  elements: dict
  sample: [{"account_id": "310987654321", "name": "prod", "code": "AccessDenied", "message": "sts:AssumeRole ... failed: AccessDenied: ..."}]
totals:
  description: C(accounts), C(audited), C(unreachable), C(users_audited), and C(counts) summed over the audited accounts.
  returned: with O(accounts)
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.iamguard.aws.plugins.module_utils.accounts import DEFAULT_MAX_WORKERS, ROLE_SESSION_NAME, module_connection
from ansible_collections.iamguard.aws.plugins.module_utils.audit_accounts import audit_accounts, audit_caller_account
from ansible_collections.iamguard.aws.plugins.module_utils.files import prepare_folder
from ansible_collections.iamguard.aws.plugins.module_utils.runner import run
from ansible_collections.iamguard.aws.plugins.module_utils.session import iam_client


def main():
    argument_spec = dict(
        require_hardware_for=dict(type="list", elements="str", default=[]),
        require_phishing_resistant_for=dict(type="list", elements="str", default=[]),
        unused_access_key_days=dict(type="int", default=45, no_log=False),
        max_report_age_hours=dict(type="int"),
        report_wait_seconds=dict(type="int", default=120),
        report_dir=dict(type="path"),
        report_formats=dict(type="list", elements="str", choices=["markdown", "json", "csv"], default=["markdown", "json", "csv"]),
        accounts=dict(type="list", elements="dict"),
        max_workers=dict(type="int", default=DEFAULT_MAX_WORKERS),
        role_session_name=dict(type="str", default=ROLE_SESSION_NAME),
        fail_on=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    def work():
        module.params["report_dir"] = prepare_folder(module.params["report_dir"], "report_dir")  # written in check mode too
        if module.params["accounts"] is not None:
            return audit_accounts(module_connection(module), module.params)
        return audit_caller_account(iam_client(module), module.params)

    run(module, work)


if __name__ == "__main__":
    main()
