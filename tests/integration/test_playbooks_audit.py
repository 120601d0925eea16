"""playbooks/mfa_audit.yml (iamguard.aws.iam_mfa_audit, one call over every account) against the simulator: one account and four."""

from __future__ import annotations

import glob
import json
import os

import yaml

from tests.integration.playbooks import (MAIN_ACCOUNT, OTHER_ACCOUNT, OTHER_ROLE, assert_refused, failure_messages, other_account_iam,
                                         playbook, two_account_inventory)
from tests.simulator.seed import account_snapshot, make_user

AUDIT = playbook("mfa_audit.yml")
AUDIT_TASK = "MFA audit - audit the accounts and write their report sets"
SUMMARY_TASK = "MFA audit - summary of each account"
THIRD_ACCOUNT = "333333333333"


def seed_account(iam):
    make_user(iam, "alice", login_profile=True)                 # console user without MFA
    make_user(iam, "bob", login_profile=True, virtual_mfa=1)    # fine
    make_user(iam, "svc", access_keys=1)                        # keys, no MFA


def posture_reports(report_dir, extension):
    """The organization's posture report files (iam_posture_report) in ``report_dir``."""
    return sorted(glob.glob(os.path.join(str(report_dir), "posture-report-*." + extension)))


def posture(report_dir):
    (path,) = posture_reports(report_dir, "json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def loop_messages(run, task):
    return [item["msg"] for item in run.task(task).get("results", [])]


def test_audit_writes_reports_and_the_posture_report_in_check_mode_too(sim, iam, run_playbook, tmp_path):
    seed_account(iam)
    before = account_snapshot(iam)
    for check in (True, False):
        reports = tmp_path / ("check" if check else "real")
        sim.reset_counters()
        run = run_playbook(AUDIT, extra_vars={"report_dir": str(reports)}, check=check)
        assert run.rc == 0, failure_messages(run)
        assert account_snapshot(iam) == before
        # One module call, from localhost, with the caller's own credentials: no AssumeRole; the one GetCallerIdentity is the
        # posture report's evidence (who ran it).
        assert "sts:AssumeRole" not in sim.counters() and sim.counters()["sts:GetCallerIdentity"] == 1
        (audit,) = run.task(AUDIT_TASK)["accounts"]
        assert audit["account_id"] == MAIN_ACCOUNT and audit["users_audited"] == 3 and audit["name"] == "localhost"
        assert audit["counts"]["console_user_without_mfa"] == 1
        for path in audit["report_files"].values():
            assert os.path.dirname(path) == str(reports) and os.path.basename(path).startswith("mfa-audit-%s-" % MAIN_ACCOUNT)
        (summary,) = loop_messages(run, SUMMARY_TASK)
        assert summary[0] == "Account %s (localhost), 3 users audited" % MAIN_ACCOUNT and summary[1:-1] == audit["summary"]
        report = posture(reports)
        assert [(a["account_id"], a["users_audited"], a["counts"]) for a in report["accounts"]] == [
            (MAIN_ACCOUNT, 3, {finding_id: count for finding_id, count in audit["counts"].items() if count})]
        verdict = run.task("MFA audit - verdict and where the reports are")["msg"]
        # root's virtual device (root_virtual_mfa) is critical
        assert verdict[0] == report["verdict"]["text"] and verdict[0].startswith("FAIL: 1 critical")
        (markdown,) = posture_reports(reports, "md")
        assert MAIN_ACCOUNT in open(markdown, encoding="utf-8").read()


def test_audit_fail_on_gates_only_on_listed_findings(iam, run_playbook, tmp_path):
    seed_account(iam)
    passed = run_playbook(AUDIT, extra_vars={"report_dir": str(tmp_path), "audit_fail_on": ["root_access_key"]})
    assert passed.rc == 0, failure_messages(passed)
    gated = run_playbook(AUDIT, extra_vars={"report_dir": str(tmp_path), "audit_fail_on": "root_access_key,console_user_without_mfa"})
    assert gated.rc != 0
    assert failure_messages(gated) == ["Findings listed in audit_fail_on were found in 1 account(s): %s (localhost): console_user_without_mfa x1"
                                       % MAIN_ACCOUNT]
    # The reports and the posture report are written before the gate closes.
    assert len(posture_reports(tmp_path, "json")) == 2


def test_accounts_side_by_side_unreachable_ones_reported_and_gated_only_per_audit_fail_on(sim, iam, run_playbook, tmp_path):
    """One module call over four hosts: main (the caller's own credentials), other (a role), one whose aws_account_id is not
    its role's account, one whose role does not exist; the last two are reported unreachable and the others audited."""
    seed_account(iam)
    other = other_account_iam(sim)
    make_user(other, "carol", login_profile=True, virtual_mfa=1)
    other.create_role(RoleName="iamguard-admin", AssumeRolePolicyDocument="{}")
    sim.configure(roles_must_exist=True)
    inventory = two_account_inventory(tmp_path / "accounts.yml")
    hosts = yaml.safe_load(open(inventory, encoding="utf-8"))
    hosts["aws_accounts"]["hosts"].update({
        "mismatch": {"aws_account_id": "999999999999", "aws_role_arn": OTHER_ROLE},
        "gone": {"aws_role_arn": "arn:aws:iam::%s:role/iamguard-admin" % THIRD_ACCOUNT},
    })
    (tmp_path / "accounts.yml").write_text(yaml.safe_dump(hosts), encoding="utf-8")
    runs = {}
    for label, fail_on in (("passes", ["root_access_key", "unused_access_key"]), ("gated", "console_user_without_mfa,account_unreachable")):
        reports = tmp_path / label
        runs[label] = run = run_playbook(AUDIT, extra_vars={"report_dir": str(reports), "audit_fail_on": fail_on}, inventory=inventory)
        result = run.task(AUDIT_TASK)
        assert {a["name"]: a["account_id"] for a in result["accounts"]} == {"main": MAIN_ACCOUNT, "other": OTHER_ACCOUNT}
        assert {a["name"]: a["users_audited"] for a in result["accounts"]} == {"main": 3, "other": 1}
        assert [(u["name"], u["account_id"], u["code"]) for u in result["unreachable_accounts"]] == [
            ("gone", THIRD_ACCOUNT, "AccessDenied"), ("mismatch", "999999999999", "AccountMismatch")]
        for account in (MAIN_ACCOUNT, OTHER_ACCOUNT):
            assert glob.glob(os.path.join(str(reports), "mfa-audit-%s-*.md" % account))
        for item in result["unreachable_accounts"]:
            with open(item["report_file"], encoding="utf-8") as handle:
                assert json.load(handle) == {"account_id": item["account_id"], "account_name": item["name"], "findings": [], "counts": {},
                                             "unreachable": {"code": item["code"], "message": item["message"]}}
        report = posture(reports)
        assert {a["account_id"]: a["reachable"] for a in report["accounts"]} == {
            MAIN_ACCOUNT: True, OTHER_ACCOUNT: True, THIRD_ACCOUNT: False, "999999999999": False}
        assert sorted((a["account_name"], a["code"]) for a in report["unreachable_accounts"]) == [
            ("gone", "AccessDenied"), ("mismatch", "AccountMismatch")]
        exported = run.task("MFA audit - export the figures for AWX workflows")["ansible_stats"]["data"]
        assert sorted(exported["iamguard_mfa_audit"]) == [MAIN_ACCOUNT, OTHER_ACCOUNT]
        assert sorted(exported["iamguard_mfa_audit_unreachable"]) == [THIRD_ACCOUNT, "999999999999"]
        said = " ".join(loop_messages(run, "MFA audit - accounts that could not be read"))
        assert "%s (gone): not audited - AccessDenied: sts:AssumeRole" % THIRD_ACCOUNT in said
    assert runs["passes"].rc == 0, failure_messages(runs["passes"])
    assert runs["gated"].rc != 0
    (message,) = failure_messages(runs["gated"])
    assert message == ("Findings listed in audit_fail_on were found in 3 account(s): %s (main): console_user_without_mfa x1; "
                       "%s (gone): account_unreachable - AccessDenied; 999999999999 (mismatch): account_unreachable - AccountMismatch"
                       % (MAIN_ACCOUNT, THIRD_ACCOUNT))


def test_audit_variables_are_refused_before_any_call(iam, run_playbook, tmp_path):
    seed_account(iam)
    base = {"report_dir": str(tmp_path)}
    # Each rule is a unit test (test_playbook_settings.py, test_files.py); here each kind of refusal once through the playbook:
    # every broken rule of the audit's variables in one message, a list that is no list, a folder.
    cases = [
        (dict(base, audit_fail_on=["user_without_mfa", "no_such_finding"], audit_report_formats="markdown,pdf", audit_unused_access_key_days="0",
              audit_max_report_age_hours="soon", audit_require_hardware_for=["admin team"], audit_max_workers=0),
         "unknown: no_such_finding", "audit_report_formats must be one or more of markdown, json, csv (got markdown, pdf)",
         "audit_unused_access_key_days must be a whole number of days, 1 or more (got 0)", "audit_max_report_age_hours must be a whole number of hours",
         "audit_require_hardware_for must be a list of user names or shell patterns", "audit_max_workers must be a whole number from 1 to 64 (got 0)"),
        (dict(base, audit_fail_on={"a": 1}), "Invalid audit_fail_on {'a': 1}: a list, or one string separated by commas or newlines"),
        ({"report_dir": "reports"}, "report_dir must be an absolute path (got reports)"),
    ]
    for extra, *fragments in cases:
        assert_refused(run_playbook, iam, "mfa_audit.yml", extra, *fragments)


def test_awx_job_slices_into_one_folder_merge_into_one_posture_report(sim, iam, run_playbook, tmp_path):
    """AWX job slicing splits the inventory: each slice audits its own accounts into the same report_dir, and the posture
    report each slice writes merges every account found there (the latest set of each), so the last one holds them all."""
    seed_account(iam)
    make_user(other_account_iam(sim), "carol", login_profile=True)
    reports = tmp_path / "reports"
    whole = yaml.safe_load(open(two_account_inventory(tmp_path / "whole.yml"), encoding="utf-8"))
    verdicts = []
    for host in ("main", "other"):
        piece = {"aws_accounts": {"vars": whole["aws_accounts"]["vars"], "hosts": {host: whole["aws_accounts"]["hosts"][host]}}}
        (tmp_path / ("slice-%s.yml" % host)).write_text(yaml.safe_dump(piece), encoding="utf-8")
        run = run_playbook(AUDIT, extra_vars={"report_dir": str(reports)}, inventory=str(tmp_path / ("slice-%s.yml" % host)))
        assert run.rc == 0, failure_messages(run)
        assert [a["name"] for a in run.task(AUDIT_TASK)["accounts"]] == [host]
        verdicts.append(run.task("MFA audit - verdict and where the reports are")["msg"][0])
    assert "across 1 account, 1 reachable" in verdicts[0] and "across 2 accounts, 2 reachable" in verdicts[1]
    reports_now = sorted(posture_reports(reports, "json"))
    with open(reports_now[-1], encoding="utf-8") as handle:
        last = json.load(handle)
    assert {a["account_id"]: a["account_name"] for a in last["accounts"]} == {MAIN_ACCOUNT: "main", OTHER_ACCOUNT: "other"}
    assert {(item["account_id"], item["user_name"]) for item in last["console_users_without_mfa"]} == {
        (MAIN_ACCOUNT, "alice"), (OTHER_ACCOUNT, "carol")}
    # The second slice's report lists the first slice's account as it was, not as new: only the other account's findings are new.
    assert {item["account_id"] for item in last["changes"]["new"]} == {OTHER_ACCOUNT}
