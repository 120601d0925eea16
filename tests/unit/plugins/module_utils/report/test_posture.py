# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The posture report: merge of the latest sets, ranking, changes, evidence, escaping, ASFF."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
from datetime import datetime, timezone

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import findings
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.findings import finding
from ansible_collections.iamguard.aws.plugins.module_utils.report import asff, html, inputs, run, text
from tests.unit.plugins.module_utils.report.sets import mfa_set, organization, root_set, unreachable_set

NOW = datetime(2026, 12, 6, 8, 30, tzinfo=timezone.utc)
LATER = datetime(2026, 12, 7, 8, 30, tzinfo=timezone.utc)
REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", ".."))
PARAMS = {"report_dir": None, "formats": list(run.FORMATS), "asff": False, "import_to_security_hub": False, "caller_identity": False}


def report_of(folder, now=NOW, **params):
    result = run.posture_report(dict(PARAMS, report_dir=str(folder), **params), "us-east-1", now=now, **{})
    with open(result["report_files"]["json"], encoding="utf-8") as handle:
        return result, json.load(handle)


def test_the_latest_set_of_every_account_is_merged(tmp_path):
    ids = organization(tmp_path)
    result, report = report_of(tmp_path)
    assert report["schema_version"] == 1
    # worst first: A (critical), then the unreachable C (high), then B (high 0, medium 2)... by critical, high, then count
    assert [a["account_id"] for a in report["accounts"]] == [ids["worst"], ids["unreachable"], ids["hostile"], ids["clean"]]
    worst = report["accounts"][0]
    # the older set of A (stale-user, 99 users) does not count; root's finding of both sources is one finding
    assert worst["users_audited"] == 10 and worst["counts"] == {"root_without_mfa": 1, "console_user_without_mfa": 2, "user_without_mfa": 2,
                                                                "root_access_key": 1}
    assert "stale-user" not in json.dumps(report["findings"])
    assert result["totals"] == report["totals"] == {
        "accounts": 4, "reachable": 3, "users": 16, "findings": 9,
        "by_severity": {"critical": 2, "high": 1, "medium": 6, "low": 0, "informational": 0},
        "by_id": {"account_unreachable": 1, "console_user_without_mfa": 3, "root_access_key": 1, "root_without_mfa": 1, "unused_access_key": 1,
                  "user_without_mfa": 2}}
    assert report["verdict"] == {"status": "fail",
                                 "text": "FAIL: 2 critical and 1 high findings (9 in all) across 4 accounts, 3 reachable; 16 users audited."}
    assert report["unreachable_accounts"] == [{"account_id": ids["unreachable"], "account_name": "sandbox", "source": "mfa_audit",
                                               "code": "AccessDenied", "message": "not authorized to perform sts:AssumeRole"}]
    # controls come from today's table, with both CIS versions
    control = next(i for i in report["findings"] if i["id"] == "console_user_without_mfa")
    assert control["control"] == "Security Hub IAM.5; CIS AWS Foundations v7.0 2.10 (v3.0 1.10)" and control["cis_v7"] == "2.10"
    with open(result["report_files"]["markdown"], encoding="utf-8") as handle:
        markdown = handle.read()
    assert "| %s | account_unreachable | high | none (iamguard: account not audited) | the account |" % ids["unreachable"] in markdown
    assert "| %s | root_without_mfa | critical | Security Hub IAM.9; CIS AWS Foundations v7.0 2.5 (v3.0 1.5) | root user |" % ids["worst"] in markdown


def test_recent_sign_in_first(tmp_path):
    ids = organization(tmp_path)
    mfa_set(tmp_path, "555555555555", "20261206T080000Z", [finding("console_user_without_mfa", "never", password_last_used="N/A")])
    dummy, report = report_of(tmp_path)
    ranked = [(r["rank"], r["account_id"], r["user_name"][:5], r["days_since_sign_in"]) for r in report["console_users_without_mfa"]]
    assert ranked == [(1, ids["hostile"], "=HYPE", 0), (2, ids["worst"], "alice", 0), (3, ids["worst"], "bob", 187), (4, "555555555555", "never", None)]


def test_changes_since_the_previous_report(tmp_path):
    ids = organization(tmp_path)
    report_of(tmp_path)
    # a day later: alice enrolled, carol appeared in A, C now reachable, B unreachable (not re-assessed, not resolved)
    mfa_set(tmp_path, ids["worst"], "20261207T080000Z", [
        finding("root_without_mfa"), finding("console_user_without_mfa", "bob"), finding("user_without_mfa", "bob", console_access=True),
        finding("console_user_without_mfa", "carol"), finding("user_without_mfa", "carol", console_access=True)], users=11)
    unreachable_set(tmp_path, ids["hostile"], "20261207T080000Z", code="ExpiredToken", message="the token expired")
    mfa_set(tmp_path, ids["unreachable"], "20261207T080000Z", [], users=1)
    result, report = report_of(tmp_path, now=LATER)
    change = report["changes"]
    assert change["previous_file"] == "posture-report-20261206T083000Z.json"
    assert (change["previous_generated_at"], change["generated_at"]) == ("2026-12-06T08:30:00Z", "2026-12-07T08:30:00Z")

    def key(item):
        return (item["account_id"], item["id"], item["user_name"])

    assert sorted(map(key, change["new"])) == [(ids["worst"], "console_user_without_mfa", "carol"), (ids["worst"], "user_without_mfa", "carol"),
                                               (ids["hostile"], "account_unreachable", None)]
    # root's access key: the newer MFA audit's root row (the credential report) shows none, so the older root audit's is resolved
    assert sorted(map(key, change["resolved"])) == [(ids["worst"], "console_user_without_mfa", "alice"), (ids["worst"], "root_access_key", None),
                                                    (ids["worst"], "user_without_mfa", "alice"), (ids["unreachable"], "account_unreachable", None)]
    assert change["not_reassessed"] == [ids["hostile"]]
    assert change["by_account"][ids["worst"]] == {"new": 2, "resolved": 3}
    assert result["changes"] == {"previous_file": "posture-report-20261206T083000Z.json", "new": 3, "resolved": 4, "not_reassessed": [ids["hostile"]]}
    with open(result["report_files"]["markdown"], encoding="utf-8") as handle:
        markdown = handle.read()
    assert ("Previous report posture-report-20261206T083000Z.json, generated 2026-12-06T08:30:00Z; this report generated 2026-12-07T08:30:00Z. "
            "3 new, 4 resolved.") in markdown
    assert "| %s | console_user_without_mfa | medium | carol |  |" % ids["worst"] in markdown


def test_first_report_has_no_changes_and_an_empty_folder_is_incomplete(tmp_path):
    result, report = report_of(tmp_path)
    assert report["changes"]["previous_file"] is None and report["findings"] == []
    assert result["verdict"]["status"] == "incomplete"


def test_unusable_inputs_are_listed_not_merged(tmp_path):
    mfa_set(tmp_path, "111111111111", "20261206T080000Z", [finding("root_without_mfa")])
    (tmp_path / "mfa-audit-222222222222-20261206T080000Z.json").write_text("{not json", encoding="utf-8")
    mfa_set(tmp_path, "333333333333", "20261206T080000Z", [])
    os.rename(tmp_path / "mfa-audit-333333333333-20261206T080000Z.json", tmp_path / "mfa-audit-444444444444-20261206T080000Z.json")
    outside = tmp_path.parent / "outside.json"
    outside.write_text("{}", encoding="utf-8")
    os.symlink(outside, tmp_path / "root-credentials-111111111111-20261206T090000Z.json")
    (tmp_path / "111111111111-root-credentials-20261206T080000Z.json").write_text("{}", encoding="utf-8")  # a manifest, not an input
    result, report = report_of(tmp_path)
    assert [a["account_id"] for a in report["accounts"]] == ["111111111111"]
    reasons = {item["file"]: item["reason"] for item in result["inputs_rejected"]}
    assert sorted(reasons) == ["mfa-audit-222222222222-20261206T080000Z.json", "mfa-audit-444444444444-20261206T080000Z.json",
                               "root-credentials-111111111111-20261206T090000Z.json"]
    assert reasons["mfa-audit-222222222222-20261206T080000Z.json"].startswith("not JSON")
    assert "not the 444444444444 of its name" in reasons["mfa-audit-444444444444-20261206T080000Z.json"]
    assert reasons["root-credentials-111111111111-20261206T090000Z.json"].startswith("cannot be opened")


def test_every_finding_id_has_a_standard_and_readme_shows_the_table():
    assert set(findings.FINDINGS) == set(findings.STANDARDS)
    for finding_id, standard in findings.STANDARDS.items():
        assert standard.severity in findings.SEVERITIES and standard.title, finding_id
        assert standard.security_hub is None or re.fullmatch(r"IAM\.[0-9]+", standard.security_hub)
        assert standard.cis_v3 is None or standard.cis_v7, "a v3.0 number is kept beside a v7.0 one"
    facts = {"console_user_without_mfa": ("IAM.5", "2.10", "1.10"), "root_access_key": ("IAM.4", "2.4", "1.4"), "root_without_mfa": ("IAM.9", "2.5", "1.5"),
             "root_virtual_mfa": ("IAM.6", "2.6", "1.6"), "unused_access_key": ("IAM.22", "2.11", "1.12"), "user_without_mfa": ("IAM.19", None, None),
             "centralized_root_access_disabled": (None, "2.1.1", None), "no_phishing_resistant_mfa": (None, None, None),
             "passkey_not_certified": (None, None, None), "account_unreachable": (None, None, None)}
    for finding_id, numbers in facts.items():
        s = findings.STANDARDS[finding_id]
        assert (s.security_hub, s.cis_v7, s.cis_v3) == numbers, finding_id
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        readme = handle.read().splitlines()
    table = findings.standards_table()
    start = readme.index(table[0])
    assert readme[start:start + len(table)] == table
    assert not readme[start + len(table)].startswith("|"), "README's table has rows the code does not"


@pytest.mark.skipif(not shutil.which("sha256sum"), reason="sha256sum (GNU coreutils) is not installed")
def test_sha256_file_checks_the_set_and_a_tampered_file_fails(tmp_path):
    organization(tmp_path)
    result, report = report_of(tmp_path)
    sums = result["report_files"]["sha256"]
    assert os.path.basename(sums) == "posture-report-20261206T083000Z.sha256"

    def check():
        return subprocess.run(["sha256sum", "-c", os.path.basename(sums)], cwd=tmp_path, capture_output=True, text=True, check=False)

    done = check()
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(line.split(": ")[0] for line in done.stdout.splitlines()) == sorted(
        os.path.basename(path) for fmt, path in result["report_files"].items() if fmt != "sha256")
    # the JSON holds the sums of the inputs it merged, and of its siblings
    for item in report["inputs"]:
        with open(tmp_path / item["file"], "rb") as handle:
            assert inputs.sha256_hex(handle.read()) == item["sha256"]
    assert set(report["files"]) == {"markdown", "csv", "html"}
    for path in result["report_files"].values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(result["report_files"]["csv"], "a", encoding="utf-8") as handle:
        handle.write("111111111111,forged\n")
    done = check()
    assert done.returncode != 0 and "posture-report-20261206T083000Z.csv: FAILED" in done.stdout


def test_every_value_is_escaped(tmp_path):
    ids = organization(tmp_path)
    result, report = report_of(tmp_path)
    with open(result["report_files"]["html"], encoding="utf-8") as handle:
        page = handle.read()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "dev &amp; &lt;test&gt;" in page
    assert page.count("<script>") == 1  # the page's own sorter, nothing else
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src &#x27;none&#x27;" in policy and "http" not in policy
    assert not re.search(r'(src|href)=', page), "no external asset"
    rows = list(csv.reader(io.StringIO(open(result["report_files"]["csv"], encoding="utf-8").read())))
    assert rows[0][0] == "account_id" and len(rows) == 1 + report["totals"]["findings"]
    hostile = next(row for row in rows if row[0] == ids["hostile"] and row[2] == "console_user_without_mfa")
    assert hostile[6].startswith("'=HYPERLINK")
    markdown = open(result["report_files"]["markdown"], encoding="utf-8").read()
    # CommonMark's backslash escapes: a renderer shows the name as written and opens no tag
    assert '| =HYPERLINK("x")\\<script\\>alert(1)\\</script\\> |' in markdown and "<script>" not in markdown


def test_html_and_markdown_show_the_same_accounts_table(tmp_path):
    organization(tmp_path)
    result, report = report_of(tmp_path)
    ids = text.finding_ids(report)
    assert ids[:2] == ["root_access_key", "root_without_mfa"]  # critical columns first
    page = html.html_page(report, "x")
    for account in report["accounts"]:
        assert "<td>%s</td>" % account["account_id"] in page


def test_options_are_checked_before_anything_is_read(tmp_path):
    with pytest.raises(IamGuardError, match="Invalid report_dir"):
        run.posture_report(dict(PARAMS, report_dir=str(tmp_path / "missing")), None)
    with pytest.raises(IamGuardError, match="must include json"):
        run.posture_report(dict(PARAMS, report_dir=str(tmp_path), formats=["html"]), None)
    with pytest.raises(IamGuardError, match="Invalid region"):
        run.posture_report(dict(PARAMS, report_dir=str(tmp_path), asff=True), None)
    assert os.listdir(tmp_path) == []


class FakeSts:
    def get_caller_identity(self):
        return {"Arn": "arn:aws:sts::999999999999:assumed-role/auditor/me", "Account": "999999999999", "UserId": "x"}


class FakeSecurityHub:
    """Refuses findings whose Id contains 'bob'; records each batch's size."""

    def __init__(self):
        self.batches = []

    def batch_import_findings(self, Findings):  # pylint: disable=invalid-name
        self.batches.append(len(Findings))
        failed = [{"Id": item["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "refused"} for item in Findings if "bob" in item["Id"]]
        return {"SuccessCount": len(Findings) - len(failed), "FailedCount": len(failed), "FailedFindings": failed}


def test_asff_export_and_import_in_batches_of_100(tmp_path):
    ids = organization(tmp_path)
    mfa_set(tmp_path, "555555555555", "20261206T080000Z", [finding("user_without_mfa", "u%03d" % n, console_access=False) for n in range(230)])
    hub = FakeSecurityHub()
    result = run.posture_report(dict(PARAMS, report_dir=str(tmp_path), import_to_security_hub=True), "eu-west-1", FakeSts, lambda: hub, now=NOW)
    assert hub.batches == [100, 100, 39]
    assert result["security_hub"]["imported"] == 237 and [f["error_code"] for f in result["security_hub"]["failed"]] == ["InvalidInput"] * 2
    assert "did not import 2 of 239" in result["failure"] and result["changed"] is True
    with open(result["report_files"]["asff"], encoding="utf-8") as handle:
        exported = json.load(handle)
    alice = next(item for item in exported if item["Id"] == "iamguard.aws/%s/console_user_without_mfa/alice/" % ids["worst"])
    assert alice["SchemaVersion"] == "2018-10-08" and alice["AwsAccountId"] == ids["worst"]
    assert alice["ProductArn"] == "arn:aws:securityhub:eu-west-1:999999999999:product/999999999999/default"
    assert alice["Compliance"] == {"Status": "FAILED", "RelatedRequirements": [
        "CIS AWS Foundations Benchmark v7.0.0/2.10", "CIS AWS Foundations Benchmark v3.0.0/1.10", "AWS Foundational Security Best Practices v1.0.0/IAM.5"]}
    assert alice["Resources"] == [{"Type": "AwsIamUser", "Id": "arn:aws:iam::%s:user/alice" % ids["worst"], "Partition": "aws", "Region": "eu-west-1"}]
    assert alice["Severity"] == {"Label": "MEDIUM"} and alice["CreatedAt"] == "2026-12-06T08:30:00Z"
    root = next(item for item in exported if item["GeneratorId"] == "iamguard.aws/root_without_mfa")
    assert root["Resources"][0] == {"Type": "AwsAccount", "Id": "AWS::::Account:%s" % ids["worst"], "Partition": "aws", "Region": "eu-west-1"}


def test_check_mode_imports_nothing(tmp_path):
    organization(tmp_path)
    result = run.posture_report(dict(PARAMS, report_dir=str(tmp_path), import_to_security_hub=True, caller_identity=True), "us-east-1",
                                FakeSts, None, check_mode=True, now=NOW)
    assert result["security_hub"] == {"imported": 0, "failed": [], "would_import": 9} and result["changed"] is False
    assert result["caller"] == {"arn": "arn:aws:sts::999999999999:assumed-role/auditor/me", "account_id": "999999999999"}


def test_resolved_findings_are_archived_in_asff(tmp_path):
    organization(tmp_path)
    report_of(tmp_path)
    mfa_set(tmp_path, "444444444444", "20261207T080000Z", [finding("console_user_without_mfa", "dave")])
    dummy, report = report_of(tmp_path, now=LATER)
    product = {"partition": "aws", "region": "us-east-1", "account_id": "999999999999"}
    archived = [item for item in asff.asff_findings(report, product) if item["RecordState"] == "ARCHIVED"]
    assert archived == [] and report["changes"]["resolved"] == []
    mfa_set(tmp_path, "444444444444", "20261208T080000Z", [])
    dummy, report = report_of(tmp_path, now=datetime(2026, 12, 8, 9, tzinfo=timezone.utc))
    archived = [item for item in asff.asff_findings(report, product) if item["RecordState"] == "ARCHIVED"]
    assert [(item["Id"], item["Compliance"]["Status"]) for item in archived] == [("iamguard.aws/444444444444/console_user_without_mfa/dave/", "PASSED")]


def test_root_findings_both_audits_raise_count_as_the_newer_audit_has_them(tmp_path):
    account = "210987654321"
    mfa_set(tmp_path, account, "20261206T080000Z", [finding("root_access_key", access_key=1, active=True, last_used=None),
                                                    finding("root_virtual_mfa", serial_number="arn:aws:iam::%s:mfa/root-account-mfa-device" % account)])
    # The root cleanup ran after the MFA audit: the root audit of 09:00 finds root with nothing left.
    root_set(tmp_path, account, "20261206T090000Z", [])
    dummy, report = report_of(tmp_path)
    assert report["accounts"][0]["counts"] == {}
    # The other way round, the MFA audit's newer root row counts, and the root audit's own ids stay.
    root_set(tmp_path, account, "20261206T070000Z", [finding("root_access_key", access_key_id="AKIA0", active=True, last_used=None),
                                                     finding("root_credentials_present", credentials=["access_keys"])])
    os.remove(os.path.join(str(tmp_path), "root-credentials-%s-20261206T090000Z.json" % account))
    dummy, report = report_of(tmp_path, now=LATER)
    assert report["accounts"][0]["counts"] == {"root_access_key": 1, "root_virtual_mfa": 1, "root_credentials_present": 1}


def test_the_root_audits_findings_are_about_the_root_user(tmp_path):
    account = "210987654321"
    root_set(tmp_path, account, "20261206T080000Z", [finding("no_phishing_resistant_mfa", device_types=["virtual"]),
                                                     finding("centralized_root_access_disabled", disabled_features=["RootSessions"])])
    result, dummy = report_of(tmp_path)
    with open(result["report_files"]["markdown"], encoding="utf-8") as handle:
        markdown = handle.read()
    assert re.search(r"\| %s \| no_phishing_resistant_mfa \| high \| [^|]+ \| root user \|" % account, markdown), markdown
    assert re.search(r"\| %s \| centralized_root_access_disabled \| critical \| [^|]+ \| the account \|" % account, markdown), markdown
