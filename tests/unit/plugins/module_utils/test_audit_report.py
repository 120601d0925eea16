# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import datetime, timezone

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import audit, audit_report
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.audit import AUDIT_FINDINGS as FINDINGS
from ansible_collections.iamguard.aws.plugins.module_utils.findings import finding

AT = datetime(2026, 11, 25, 9, 1, 2, tzinfo=timezone.utc)
MIX = "MFA devices: (the device mix sentence)"


def result():
    findings = [
        finding("root_virtual_mfa", serial_number="arn:aws:iam::123456789012:mfa/root-account-mfa-device"),
        finding("console_user_without_mfa", "=cmd|x"),
        finding("user_without_mfa", "=cmd|x", console_access=True),
        finding("unused_access_key", "svc", access_key=1, days_unused=99, last_used=None, last_rotated="2026-01-01T00:00:00+00:00"),
        audit.orphan_finding({"serial_number": "arn:aws:iam::123456789012:mfa/gone"}),
    ]
    return {"account_id": "123456789012", "users_audited": 3, "findings": findings, "counts": audit.counts(findings),
            "device_mix": {"virtual": 2, "hardware": 1, "passkey": 0}, "device_mix_users_listed": 1,
            "type_differences": [{"user_name": "bob", "serial_number": "arn:aws:iam::1:mfa/t", "type": "hardware", "type_by_serial": "virtual"}],
            "credential_report": {"generated_time": "2026-11-25T08:00:00+00:00", "age_hours": 1.02}, "summary": ["a line"], "changed": False}


def test_file_names_carry_account_and_utc_time():
    assert audit_report.file_name("123456789012", AT, "markdown") == "mfa-audit-123456789012-20261125T090102Z.md"
    assert audit_report.file_name("123456789012", AT, "csv").endswith("Z.csv")


def test_markdown_summary_first_then_findings_by_control():
    text = audit_report.markdown(result(), FINDINGS, MIX)
    lines = text.splitlines()
    assert lines[0] == "# MFA audit of AWS account 123456789012"
    summary, by_control = text.index("## Summary"), text.index("## Findings by control")
    assert summary < by_control
    # every finding id in the summary table, zeros included
    for finding_id in FINDINGS:
        assert "| %s |" % finding_id in text[summary:by_control]
    assert "| root_without_mfa | Security Hub IAM.9; CIS AWS Foundations v7.0 2.5 (v3.0 1.5) | critical | 0 |" in lines
    sections = [line for line in lines if line.startswith("### ")]
    assert sections == ["### Security Hub IAM.6; CIS AWS Foundations v7.0 2.6 (v3.0 1.6)",
                        "### Security Hub IAM.5; CIS AWS Foundations v7.0 2.10 (v3.0 1.10)",
                        "### Security Hub IAM.19", "### Security Hub IAM.22; CIS AWS Foundations v7.0 2.11 (v3.0 1.12)",
                        "### none (iamguard: cancelled enrolments)"]
    # a pipe in a user name cannot break the table
    assert "| console_user_without_mfa | medium | =cmd\\|x |  |  |" in lines
    # details as a person reads them, never Python's True/None; root's and nobody's findings say so
    assert "| user_without_mfa | medium | =cmd\\|x |  | console_access: yes |" in lines
    assert "| root_virtual_mfa | critical | root user | arn:aws:iam::123456789012:mfa/root-account-mfa-device |  |" in lines
    assert "| orphaned_virtual_mfa_device | low | nobody | arn:aws:iam::123456789012:mfa/gone | age_minutes: unknown, created_at: unknown |" in lines
    assert "last_used: unknown" in text and MIX in lines
    assert "None" not in text and "True" not in text


def test_markdown_without_findings():
    empty = dict(result(), findings=[], counts=audit.counts([]), type_differences=[])
    assert "No findings." in audit_report.markdown(empty, FINDINGS, MIX)


def test_csv_one_row_per_finding_formula_safe():
    rows = list(csv.reader(io.StringIO(audit_report.csv_text(result()))))
    assert rows[0] == list(audit_report.CSV_COLUMNS) and rows[0][0] == "account_id"
    assert len(rows) == 6
    # every row names its account: the CSVs of many accounts concatenate
    assert {row[0] for row in rows[1:]} == {"123456789012"}
    # a user name starting with = would run as a spreadsheet formula
    assert rows[2][5] == "'=cmd|x"
    assert json.loads(rows[4][7]) == {"access_key": 1, "days_unused": 99, "last_used": None, "last_rotated": "2026-01-01T00:00:00+00:00"}


def test_json_holds_the_result_without_module_keys():
    data = json.loads(audit_report.json_text(result()))
    assert set(data) == set(audit_report.REPORTED_KEYS)
    assert data["counts"]["console_user_without_mfa"] == 1


def test_write_reports_0600_each_format(tmp_path):
    paths = audit_report.write_reports(str(tmp_path), result(), ["markdown", "json", "csv"], AT, FINDINGS, MIX)
    assert sorted(paths) == ["csv", "json", "markdown"]
    for fmt, path in paths.items():
        assert os.path.basename(path) == audit_report.file_name("123456789012", AT, fmt)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths.values())


def test_write_reports_only_the_formats_asked(tmp_path):
    paths = audit_report.write_reports(str(tmp_path), result(), ["json"], AT, FINDINGS, MIX)
    assert list(paths) == ["json"] and os.listdir(tmp_path) == [os.path.basename(paths["json"])]


def test_existing_report_is_never_overwritten(tmp_path):
    audit_report.write_reports(str(tmp_path), result(), ["csv"], AT, FINDINGS, MIX)
    with pytest.raises(IamGuardError, match="report_dir.*already exists"):
        audit_report.write_reports(str(tmp_path), result(), ["csv"], AT, FINDINGS, MIX)


def test_no_secret_reaches_a_report(tmp_path):
    # Only the result's reported keys are written: anything else a caller put in the result stays out.
    leaky = dict(result(), secret="JBSWY3DPEHPK3PXP", warnings=["AKIAEXAMPLESECRET"])
    paths = audit_report.write_reports(str(tmp_path), leaky, audit_report.FORMATS, AT, FINDINGS, MIX)
    for path in paths.values():
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert "JBSWY3DPEHPK3PXP" not in text and "AKIAEXAMPLESECRET" not in text
