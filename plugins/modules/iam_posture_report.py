#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_posture_report
version_added: 0.2.0
short_description: Merge the accounts' MFA and root credentials audit reports into one organization posture report
description:
  - Reads the latest report set of every account in O(report_dir), as M(iamguard.aws.iam_mfa_audit) and the root credentials
    audit write them (C(mfa-audit-<account id>-<UTC YYYYmmddTHHMMSSZ>.json), C(root-credentials-<account id>-<stamp>.json),
    or such a file saying the account could not be read), and writes one organization report set next to them.
  - Several runs, or the slices of one AWX job, leave several sets; per account and kind the latest one is used, and every
    account found is merged. Root's findings that both audits raise (C(root_without_mfa), C(root_virtual_mfa),
    C(root_access_key)) count once, as the newer of the two audits has them.
  - "The report: organization totals and a verdict line; a table of accounts by finding id, worst accounts first (by
    critical, high, medium, low, informational findings, then their count); the accounts not reachable and why; console
    users without MFA, the most recent sign-in first; every finding; the change since the previous report in the same
    folder (findings new and resolved per account, with the times of both reports); and the evidence."
  - "A finding's identity is its account, id, user name and serial number. An account not reachable now, or missing now,
    was not audited again: its earlier findings are listed as not re-assessed, not as resolved."
  - "Evidence: the run's parameters, the caller's ARN (with O(caller_identity)), each input file with its sha256 and age
    (the credential report's time and age, the root audit's time), and a C(posture-report-<stamp>.sha256) file in
    C(sha256sum -c) format over the files of the set; run C(sha256sum -c) in the folder to check them later."
  - Reads local files only, and makes no AWS call unless O(caller_identity), O(asff) or O(import_to_security_hub) ask for one.
    Only O(import_to_security_hub) changes anything in AWS. The report set is written in check mode too.
author:
  - iamguard maintainers (@iamguard)
options:
  report_dir:
    description:
      - The folder holding the account report sets, where the organization report set is written too, as
        C(posture-report-<UTC time YYYYmmddTHHMMSSZ>) with the extensions C(.md), C(.json), C(.csv), C(.html),
        C(.asff.json) (with O(asff)) and C(.sha256), each readable only by its owner (mode 0600).
      - An existing folder, not a symbolic link (C(~) is expanded).
    type: path
    required: true
  formats:
    description:
      - Which files to write. C(json) is required, as it is the next run's baseline for the changes and holds the evidence.
    type: list
    elements: str
    choices: [markdown, json, csv, html]
    default: [markdown, json, csv, html]
  caller_identity:
    description:
      - Record the caller's ARN (sts GetCallerIdentity) in the evidence. Needs AWS credentials.
    type: bool
    default: false
  asff:
    description:
      - Also write the findings in the AWS Security Finding Format (C(.asff.json)), one per finding, and each finding
        resolved since the previous report as PASSED and ARCHIVED. The product ARN is the caller's account's default
        product in O(region), so this needs credentials (GetCallerIdentity) and a region.
    type: bool
    default: false
  import_to_security_hub:
    description:
      - Import the ASFF findings into AWS Security Hub of the caller's account in O(region) (BatchImportFindings, 100 a
        call); the C(.asff.json) file is written too. Findings Security Hub refuses are listed in RV(security_hub) and fail
        the task, after the report set is written. In check mode nothing is imported.
    type: bool
    default: false
notes:
  - "Permissions: none for the files alone; C(sts:GetCallerIdentity) with O(caller_identity) or O(asff);
    C(securityhub:BatchImportFindings) with O(import_to_security_hub)."
  - Findings carry their control from the collection's standards table (Security Hub control, CIS AWS Foundations v7.0
    number with the v3.0 number beside it); see README, section MFA audit.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Audit MFA across the account, writing its report set
  iamguard.aws.iam_mfa_audit:
    report_dir: /var/lib/iamguard/posture

- name: Merge every account's latest report set into one organization report
  iamguard.aws.iam_posture_report:
    report_dir: /var/lib/iamguard/posture
  register: posture

- name: Show the verdict
  ansible.builtin.debug:
    msg: "{{ posture.verdict.text }} Report - {{ posture.report_files.html }}"

- name: The same with the caller recorded and the findings as ASFF
  iamguard.aws.iam_posture_report:
    report_dir: /var/lib/iamguard/posture
    caller_identity: true
    asff: true
    region: us-east-1
"""

RETURN = r"""
verdict:
  description: C(status) (C(fail) on a critical or high finding, C(incomplete) when an account could not be read,
    C(attention) on other findings, C(pass)) and the verdict sentence.
  returned: always
  type: dict
  sample: {"status": "fail", "text": "FAIL: 1 critical and 2 high findings (9 in all) across 3 accounts, 2 reachable; 40 users audited."}
totals:
  description: Accounts, reachable accounts, users audited, findings, and findings by severity and by id.
  returned: always
  type: dict
  sample: {"accounts": 3, "reachable": 2, "users": 40, "findings": 9, "by_severity": {"critical": 1, "high": 2, "medium": 6, "low": 0,
           "informational": 0}, "by_id": {"account_unreachable": 1, "console_user_without_mfa": 3}}
unreachable_accounts:
  description: The accounts that could not be read, with C(account_id), C(account_name), C(source), C(code) and C(message).
  returned: always
  type: list
  elements: dict
changes:
  description: The previous report's file (null when none), the number of findings new and resolved since, and the accounts not re-assessed.
  returned: always
  type: dict
  sample: {"previous_file": "posture-report-20261205T080000Z.json", "new": 2, "resolved": 1, "not_reassessed": []}
report_files:
  description: Paths of the files written, by format, and C(sha256), the checksum file.
  returned: always
  type: dict
  sample: {"json": "/var/lib/iamguard/posture/posture-report-20261206T080000Z.json",
           "sha256": "/var/lib/iamguard/posture/posture-report-20261206T080000Z.sha256"}
inputs_rejected:
  description: Latest input files that could not be used, with C(file) and C(reason) (not JSON, another account's, a symbolic link).
  returned: always
  type: list
  elements: dict
caller:
  description: The caller's C(arn) and C(account_id), when asked (O(caller_identity), O(asff)); else null.
  returned: always
  type: dict
security_hub:
  description: C(imported) (the number Security Hub accepted) and C(failed) (C(id), C(error_code), C(error_message) of each it refused);
    in check mode C(would_import) instead.
  returned: when O(import_to_security_hub) is true
  type: dict
  sample: {"imported": 9, "failed": []}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info

from ansible_collections.iamguard.aws.plugins.module_utils.files import absolute_path
from ansible_collections.iamguard.aws.plugins.module_utils.report.run import FORMATS, posture_report
from ansible_collections.iamguard.aws.plugins.module_utils.runner import run
from ansible_collections.iamguard.aws.plugins.module_utils.session import aws_client, sts_client


def main():
    argument_spec = dict(
        report_dir=dict(type="path", required=True),
        formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
        caller_identity=dict(type="bool", default=False),
        asff=dict(type="bool", default=False),
        import_to_security_hub=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    def work():
        module.params["report_dir"] = absolute_path(module.params["report_dir"], "report_dir")
        region = get_aws_connection_info(module)[0]
        return posture_report(module.params, region, lambda: sts_client(module), lambda: aws_client(module, "securityhub"), module.check_mode)

    run(module, work)


if __name__ == "__main__":
    main()
