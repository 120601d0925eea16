"""playbooks/mfa_audit.yml (iamguard.aws.iam_mfa_audit) against the simulator: one account and two."""

from __future__ import annotations

import glob
import json
import os

from tests.integration.playbooks import (MAIN_ACCOUNT, OTHER_ACCOUNT, assert_refused, failure_messages, other_account_iam,
                                         playbook, two_account_inventory)
from tests.simulator.seed import account_snapshot, make_user

AUDIT = playbook("mfa_audit.yml")
AUDIT_TASK = "MFA audit - audit the account and write its report set"
GATE_TASK = "MFA audit - fail where a finding of audit_fail_on was found"


def seed_account(iam):
    make_user(iam, "alice", login_profile=True)                 # console user without MFA
    make_user(iam, "bob", login_profile=True, virtual_mfa=1)    # fine
    make_user(iam, "svc", access_keys=1)                        # keys, no MFA


def summaries(report_dir, extension):
    return sorted(glob.glob(os.path.join(str(report_dir), "mfa-audit-summary-*." + extension)))


def test_audit_writes_reports_and_a_summary_in_check_mode_too(iam, run_playbook, tmp_path):
    seed_account(iam)
    before = account_snapshot(iam)
    for check in (True, False):
        reports = tmp_path / ("check" if check else "real")
        run = run_playbook(AUDIT, extra_vars={"report_dir": str(reports)}, check=check)
        assert run.rc == 0, failure_messages(run)
        assert account_snapshot(iam) == before
        audit = run.task(AUDIT_TASK)
        assert audit["account_id"] == MAIN_ACCOUNT and audit["users_audited"] == 3
        assert audit["counts"]["console_user_without_mfa"] == 1
        for path in audit["report_files"].values():
            assert os.path.dirname(path) == str(reports) and os.path.basename(path).startswith("mfa-audit-%s-" % MAIN_ACCOUNT)
        summary = run.task("MFA audit - summary")["msg"]
        assert summary[0] == "Account %s (localhost), 3 users audited" % MAIN_ACCOUNT and summary[1:-1] == audit["summary"]
        (combined,) = summaries(reports, "json")
        with open(combined, encoding="utf-8") as handle:
            accounts = json.load(handle)["accounts"]
        assert [(a["account_id"], a["counts"]) for a in accounts] == [(MAIN_ACCOUNT, audit["counts"])]
        (markdown,) = summaries(reports, "md")
        assert "| %s | localhost | 3 |" % MAIN_ACCOUNT in open(markdown, encoding="utf-8").read()


def test_audit_fail_on_gates_only_on_listed_findings(iam, run_playbook, tmp_path):
    seed_account(iam)
    passed = run_playbook(AUDIT, extra_vars={"report_dir": str(tmp_path), "audit_fail_on": ["root_access_key"]})
    assert passed.rc == 0, failure_messages(passed)
    gated = run_playbook(AUDIT, extra_vars={"report_dir": str(tmp_path), "audit_fail_on": "root_access_key,console_user_without_mfa"})
    assert gated.rc != 0
    assert failure_messages(gated) == ["%s: findings listed in audit_fail_on were found: console_user_without_mfa x1" % MAIN_ACCOUNT]
    # The reports and the combined summary are written before the gate closes.
    assert len(summaries(tmp_path, "json")) == 2


def test_two_accounts_each_report_and_one_combined_summary(sim, iam, run_playbook, tmp_path):
    seed_account(iam)
    other = other_account_iam(sim)
    make_user(other, "carol", login_profile=True, virtual_mfa=1)
    inventory = two_account_inventory(tmp_path / "accounts.yml")
    reports = tmp_path / "reports"
    run = run_playbook(AUDIT, extra_vars={"report_dir": str(reports), "audit_fail_on": ["console_user_without_mfa"]}, inventory=inventory)
    assert run.rc != 0  # main has alice; other passes the gate
    assert run.stats["main"]["failures"] == 1 and run.stats["other"]["failures"] == 0
    assert run.task(AUDIT_TASK, "other")["account_id"] == OTHER_ACCOUNT
    assert run.task(AUDIT_TASK, "other")["users_audited"] == 1
    for account in (MAIN_ACCOUNT, OTHER_ACCOUNT):
        assert glob.glob(os.path.join(str(reports), "mfa-audit-%s-*.md" % account))
    (combined,) = summaries(reports, "json")
    with open(combined, encoding="utf-8") as handle:
        accounts = {a["host"]: a for a in json.load(handle)["accounts"]}
    assert {host: a["account_id"] for host, a in accounts.items()} == {"main": MAIN_ACCOUNT, "other": OTHER_ACCOUNT}
    assert accounts["main"]["failing"] == ["console_user_without_mfa"] and accounts["other"]["failing"] == []


def test_an_account_that_fails_its_check_is_named_in_the_summary(sim, iam, run_playbook, tmp_path):
    inventory = two_account_inventory(tmp_path / "accounts.yml", other={"aws_account_id": "999999999999"})
    run = run_playbook(AUDIT, extra_vars={"report_dir": str(tmp_path)}, inventory=inventory)
    assert run.rc != 0
    (combined,) = summaries(tmp_path, "json")
    with open(combined, encoding="utf-8") as handle:
        summary = json.load(handle)
    assert [a["host"] for a in summary["accounts"]] == ["main"] and summary["not_audited"] == ["other"]


def test_audit_variables_are_refused_before_any_call(iam, run_playbook, tmp_path):
    seed_account(iam)
    base = {"report_dir": str(tmp_path)}
    cases = [
        (dict(base, audit_fail_on=["user_without_mfa", "no_such_finding"]), "unknown: no_such_finding"),
        (dict(base, audit_fail_on={"a": 1}), "Invalid audit_fail_on {'a': 1}: a list, or one string separated by commas or newlines"),
        (dict(base, audit_fail_on=5), "Invalid audit_fail_on 5"),
        ({"report_dir": "reports"}, "report_dir must be an absolute path (got reports)"),
        (dict(base, audit_report_formats="markdown,pdf"), "audit_report_formats must be one or more of markdown, json, csv (got markdown, pdf)"),
        (dict(base, audit_unused_access_key_days="0"), "audit_unused_access_key_days must be a whole number of days, 1 or more (got 0)"),
        (dict(base, audit_max_report_age_hours="soon"), "audit_max_report_age_hours must be a whole number of hours"),
        (dict(base, audit_require_hardware_for=["admin team"]), "audit_require_hardware_for must be a list of user names or shell patterns"),
    ]
    for extra, fragment in cases:
        assert_refused(run_playbook, iam, "mfa_audit.yml", extra, fragment)
