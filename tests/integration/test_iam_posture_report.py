# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iamguard.aws.iam_posture_report through ansible-playbook against the simulator, every case in one run.

The caller's account is audited for real (iam_mfa_audit); the report sets of two other accounts are
written here as the fan-out writes them (one account read, one that could not be): then a first
organization report, a later audit of the other account, a second report exported as ASFF and
imported into the simulator's Security Hub, `sha256sum -c` over the second set, and a refused folder.
"""

from __future__ import annotations

import json
import os

from tests.simulator.seed import make_user

MODULE = "iamguard.aws.iam_posture_report"
MAIN = "123456789012"
OTHER = "210987654321"
GONE = "333333333333"


def account_file(folder, kind, account_id, stamp, document):
    path = os.path.join(str(folder), "%s-%s-%s.json" % (kind, account_id, stamp))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(dict(document, account_id=account_id), handle)
    return path


def other_account(findings):
    return {"account_name": "dev", "users_audited": 2, "credential_report": {"generated_time": "2026-12-06T06:00:00+00:00", "age_hours": 2.0},
            "counts": {}, "device_mix": {}, "device_mix_users_listed": 0, "type_differences": [], "summary": [], "findings": findings}


CAROL = {"id": "console_user_without_mfa", "control": "Security Hub IAM.5", "severity": "medium", "title": "x", "user_name": "carol",
         "serial_number": None, "detail": {"password_last_used": "2026-12-05T10:00:00+00:00"}}


def test_organization_report_changes_asff_import_and_evidence(sim, iam, run_playbook, tmp_path):
    make_user(iam, "alice", login_profile=True)
    make_user(iam, "bob", login_profile=True, virtual_mfa=1)
    reports, staging = tmp_path / "reports", tmp_path / "staging"
    reports.mkdir(mode=0o700)
    staging.mkdir()
    account_file(reports, "mfa-audit", OTHER, "20261206T080000Z", other_account([CAROL]))
    account_file(reports, "mfa-audit", GONE, "20261206T080000Z",
                 {"account_name": "sandbox", "unreachable": {"code": "AccessDenied", "message": "sts:AssumeRole refused"}, "findings": [], "counts": {}})
    later = account_file(staging, "mfa-audit", OTHER, "20261206T090000Z", other_account([]))
    folder = str(reports)
    tasks = [
        {"name": "Audit the caller's account", "iamguard.aws.iam_mfa_audit": {"report_dir": folder, "report_formats": ["json"]}},
        {"name": "First organization report", MODULE: {"report_dir": folder, "caller_identity": True}},
        {"name": "A later audit of the other account", "ansible.builtin.copy": {"src": later, "dest": folder + "/", "mode": "0600"}},
        {"name": "Reports are stamped to the second", "ansible.builtin.pause": {"seconds": 1}},
        {"name": "Second report, exported and imported", "register": "second",
         MODULE: {"report_dir": folder, "asff": True, "import_to_security_hub": True, "region": "us-east-1"}},
        {"name": "An auditor checks the set", "ansible.builtin.command": {"cmd": "sha256sum -c {{ second.report_files.sha256 | basename }}",
                                                                          "chdir": folder}, "changed_when": False},
        {"name": "A missing folder is refused", MODULE: {"report_dir": folder + "/missing"}, "ignore_errors": True},
    ]
    run = run_playbook([{"name": "posture", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    assert [r["task"] for r in run.failed] == ["A missing folder is refused"], [r["result"] for r in run.failed]

    first = run.task("First organization report")
    assert first["totals"]["accounts"] == 3 and first["totals"]["reachable"] == 2 and first["totals"]["users"] == 4
    assert first["verdict"]["status"] == "fail"  # an unreachable account is a high finding
    assert first["unreachable_accounts"] == [{"account_id": GONE, "account_name": "sandbox", "source": "mfa_audit", "code": "AccessDenied",
                                              "message": "sts:AssumeRole refused"}]
    assert first["caller"] == {"arn": "arn:aws:sts::123456789012:user/moto", "account_id": MAIN}
    assert first["changes"]["previous_file"] is None and first["changed"] is False

    second = run.task("Second report, exported and imported")
    assert second["changes"] == {"previous_file": os.path.basename(first["report_files"]["json"]), "new": 0, "resolved": 1, "not_reassessed": [GONE]}
    with open(second["report_files"]["json"], encoding="utf-8") as handle:
        report = json.load(handle)
    assert [(i["account_id"], i["user_name"]) for i in report["changes"]["resolved"]] == [(OTHER, "carol")]
    mine = sorted((i["id"], i["user_name"]) for i in report["findings"] if i["account_id"] == MAIN)
    assert mine == [("console_user_without_mfa", "alice"), ("root_virtual_mfa", None), ("user_without_mfa", "alice")]
    assert report["accounts"][-1]["account_id"] == OTHER and report["accounts"][-1]["total"] == 0
    evidence = {a["account_id"]: a["evidence"]["mfa_audit"] for a in report["accounts"]}
    assert evidence[OTHER]["file"] == "mfa-audit-%s-20261206T090000Z.json" % OTHER
    assert isinstance(evidence[MAIN]["credential_report"]["age_hours"], float)
    assert report["parameters"]["import_to_security_hub"] is True and "aws_secret_key" not in report["parameters"]

    # ASFF: every finding, and the resolved one archived; all imported into the caller's Security Hub
    assert second["security_hub"] == {"imported": len(report["findings"]) + 1, "failed": []} and second["changed"] is True
    hub = sim.client("securityhub").get_findings()["Findings"]
    assert sorted(f["Id"] for f in hub) == sorted(["iamguard.aws/%s/%s/%s/%s" % (i["account_id"], i["id"], i["user_name"] or "", i["serial_number"] or "")
                                                   for i in report["findings"]]
                                                  + ["iamguard.aws/%s/console_user_without_mfa/carol/" % OTHER])
    assert {f["ProductArn"] for f in hub} == {"arn:aws:securityhub:us-east-1:%s:product/%s/default" % (MAIN, MAIN)}

    checked = run.task("An auditor checks the set")
    assert sorted(line.rsplit(": ", 1)[1] for line in checked["stdout_lines"]) == ["OK"] * 5  # md, json, csv, html, asff
    refused = run.task("A missing folder is refused")
    assert "report_dir" in refused["msg"] and "Nothing was changed" in refused["msg"]
    with open(second["report_files"]["markdown"], encoding="utf-8") as handle:
        assert "| %s | alice |" % MAIN in handle.read()
