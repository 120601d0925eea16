# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/root_credentials_audit.yml and root_credentials_cleanup.yml against the simulated organization.

Management account (the caller) + members dev, staging and sandbox; sandbox is the member
left out (not in account_ids, not in the inventory) and must stay untouched.
"""

from __future__ import annotations

import glob
import json
import os
import stat

import pytest
import yaml

from tests.integration.playbooks import failure_messages, playbook
from tests.integration.test_root_credentials import KINDS, changing_calls, root_state
from tests.simulator.seed import seed_organization, seed_root_credentials

CLEANUP = playbook("root_credentials_cleanup.yml")
AUDIT = playbook("root_credentials_audit.yml")
CLEANUP_TASK = "Root credentials cleanup - remove them"
AUDIT_TASK = "Root credentials audit - read them"
MODULE_TASKS = (CLEANUP_TASK, AUDIT_TASK)
SUMMARY_TASK = "Root credentials cleanup - what was done (or would be, under --check)"


@pytest.fixture
def organization(sim):
    org = seed_organization(sim)
    org["seeded"] = {name: seed_root_credentials(sim, account, mfa_devices=KINDS) for name, account in org["accounts"].items()}
    return org


def inventory(path, org, names, management=False):
    """aws_accounts hosts as the iamguard.aws.accounts inventory plugin makes them (role ARN included, never assumed here)."""
    hosts = {name: {"aws_account_id": org["accounts"][name], "aws_account_name": name, "aws_is_management_account": False,
                    "aws_role_arn": "arn:aws:iam::%s:role/OrganizationAccountAccessRole" % org["accounts"][name]} for name in names}
    if management:
        hosts["management"] = {"aws_account_id": org["management_account_id"], "aws_is_management_account": True}
    path.write_text(yaml.safe_dump({"aws_accounts": {"vars": {"ansible_connection": "local"}, "hosts": hosts}}), encoding="utf-8")
    return str(path)


def module_results(run, task):
    return [item for record in run.results if record["task"] == task for item in record["result"].get("results", [])]


def test_cleanup_on_localhost_check_then_real_then_idempotent(sim, organization, run_playbook, tmp_path):
    accounts = organization["accounts"]
    targets = [accounts["dev"], accounts["staging"]]
    manifests = tmp_path / "manifests"
    before = {name: root_state(account) for name, account in accounts.items()}
    extra = {"account_ids": ",".join(targets), "manifest_dir": str(manifests)}  # a survey string

    check = run_playbook(CLEANUP, extra_vars=extra, check=True)
    assert check.rc == 0, failure_messages(check)
    planned = module_results(check, CLEANUP_TASK)
    assert [r["account_id"] for r in planned] == targets and all(r["changed"] and r["actions"] for r in planned)
    assert {name: root_state(account) for name, account in accounts.items()} == before
    assert not manifests.exists()  # --check leaves the local disk alone too
    said = [item["msg"] for item in module_results(check, SUMMARY_TASK)]
    assert [line.split(":")[0] for line in said] == targets and all(": would remove 7 - delete_login_profile root, " in line for line in said), said

    real = run_playbook(CLEANUP, extra_vars=extra)
    assert real.rc == 0, failure_messages(real)
    done = module_results(real, CLEANUP_TASK)
    exported = real.task("Root credentials cleanup - export the outcomes for AWX workflows")["ansible_stats"]["data"]
    assert {account: (outcome["changed"], outcome["actions"], outcome["findings_after"])
            for account, outcome in exported["iamguard_root_credentials_cleanup"].items()} == {account: (True, 7, []) for account in targets}
    said = [item["msg"] for item in module_results(real, SUMMARY_TASK)]
    assert all(": removed 7 - " in line and "; manifest %s/" % manifests in line for line in said), said
    assert [r["actions"] for r in done] == [r["actions"] for r in planned]
    for account in targets:
        assert root_state(account) == {"login_profile": False, "access_keys": [], "signing_certificates": [],
                                       "mfa_devices": [], "virtual_mfa_devices": []}
    assert root_state(accounts["sandbox"]) == before["sandbox"] and changing_calls(sim, accounts["sandbox"]) == {}
    written = sorted(glob.glob(str(manifests / "*.json")))
    assert [os.path.basename(p).split("-root-credentials-")[0] for p in written] == sorted(targets)
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in written)
    assert stat.S_IMODE(os.stat(manifests).st_mode) == 0o700
    for name in ("dev", "staging", "sandbox"):
        for secret in organization["seeded"][name]["secrets"]:
            assert secret not in check.stdout + check.stderr + real.stdout + real.stderr

    again = run_playbook(CLEANUP, extra_vars=extra)
    assert again.rc == 0, failure_messages(again)
    assert [(r["changed"], r["actions"]) for r in module_results(again, CLEANUP_TASK)] == [(False, []), (False, [])]
    assert len(glob.glob(str(manifests / "*.json"))) == 2


def test_cleanup_over_an_inventory_with_no_extra_variables(sim, organization, run_playbook, tmp_path, monkeypatch):
    accounts = organization["accounts"]
    monkeypatch.setenv("HOME", str(tmp_path))  # the default manifest_dir is under HOME
    hosts = inventory(tmp_path / "org.yml", organization, ["dev", "staging"], management=True)
    sandbox_before = root_state(accounts["sandbox"])
    run = run_playbook(CLEANUP, inventory=hosts, env={"HOME": str(tmp_path)})
    assert run.rc != 0  # the management host is refused
    messages = failure_messages(run)
    assert len(messages) == 1 and "management is the organization's management account" in messages[0]
    assert "AssumeRoot cannot target it" in messages[0]
    for name in ("dev", "staging"):
        (result,) = [r["result"]["results"][0] for r in run.results if r["task"] == CLEANUP_TASK and r["host"] == name]
        assert result["account_id"] == accounts[name] and result["credential_types"] == list(
            ["login_profile", "access_keys", "signing_certificates", "mfa_devices"])
        assert root_state(accounts[name])["virtual_mfa_devices"] == [] and root_state(accounts[name])["mfa_devices"] == []
    assert root_state(accounts["sandbox"]) == sandbox_before
    # the hosts' aws_role_arn is not assumed: the caller's own credentials call AssumeRoot
    assert "sts:AssumeRole" not in sim.counters()
    assert len(glob.glob(str(tmp_path / "iamguard" / "manifests" / "*.json"))) == 2


def test_cleanup_of_selected_kinds(sim, organization, run_playbook, tmp_path):
    dev = organization["accounts"]["dev"]
    before = root_state(dev)
    run = run_playbook(CLEANUP, extra_vars={"account_ids": [dev], "credential_types": "login_profile", "manifest_dir": str(tmp_path)})
    assert run.rc == 0, failure_messages(run)
    after = root_state(dev)
    assert after["login_profile"] is False and dict(after, login_profile=before["login_profile"]) == before


def test_audit_writes_a_report_per_account_also_in_check_mode(sim, organization, run_playbook, tmp_path):
    """One module call over the accounts; one that is no member of the organization is reported unreachable, the others audited."""
    accounts = organization["accounts"]
    stranger = "999999999999"
    before = {name: root_state(account) for name, account in accounts.items()}
    for check in (True, False):
        reports = tmp_path / ("check" if check else "real")
        run = run_playbook(AUDIT, extra_vars={"account_ids": [accounts["dev"], stranger, accounts["sandbox"]], "report_dir": str(reports)},
                           check=check)
        assert run.rc == 0, failure_messages(run)
        result = run.task(AUDIT_TASK)
        audited = result["accounts"]
        assert [r["account_id"] for r in audited] == [accounts["dev"], accounts["sandbox"]]
        assert all(r["counts"]["root_virtual_mfa"] == 1 for r in audited)
        (unreachable,) = result["unreachable_accounts"]
        # Organizations answers first: reading the SCPs that apply to it (ListParents) finds no such member.
        assert unreachable["account_id"] == stranger and unreachable["code"] == "AccountNotFoundException"
        exported = run.task("Root credentials audit - export the counts for AWX workflows")["ansible_stats"]["data"]
        assert exported["iamguard_root_credentials_audit"] == {r["account_id"]: r["counts"] for r in audited}
        assert list(exported["iamguard_root_credentials_unreachable"]) == [stranger]
        paths = sorted(glob.glob(str(reports / "root-credentials-*.json")))
        assert len(paths) == 3 and all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in paths)
        assert len({os.path.basename(p).rsplit("-", 1)[1] for p in paths}) == 1  # one stamp for the run
        documents = {}
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                documents[json.load(handle)["account_id"]] = json.load(open(path, encoding="utf-8"))
        dev = documents[accounts["dev"]]
        assert sorted(dev) == ["account_id", "counts", "credentials", "credentials_audited", "findings", "generated_time", "organization",
                               "scp_blockers"]
        assert dev["counts"]["root_access_key"] >= 1 and dev["organization"]["management_account_id"] == organization["management_account_id"]
        assert documents[stranger]["unreachable"] == {"code": "AccountNotFoundException", "message": unreachable["message"]}
        assert documents[stranger]["findings"] == [] and documents[stranger]["counts"] == {}
        text = run.stdout + run.stderr + "".join(open(p, encoding="utf-8").read() for p in paths)
        for name in ("dev", "sandbox"):
            for secret in organization["seeded"][name]["secrets"]:
                assert secret not in text
    assert {name: root_state(account) for name, account in accounts.items()} == before


def test_audit_over_an_inventory_refuses_the_management_account_before_any_call(sim, organization, run_playbook, tmp_path):
    sim.reset_counters()
    run = run_playbook(AUDIT, inventory=inventory(tmp_path / "org.yml", organization, ["dev", "staging"], management=True))
    assert run.rc != 0
    assert any("management is the organization's management account" in message for message in failure_messages(run)), failure_messages(run)
    assert sim.counters() == {}
    run = run_playbook(AUDIT, inventory=inventory(tmp_path / "org.yml", organization, ["dev", "staging"]))
    assert run.rc == 0, failure_messages(run)
    assert [(r["name"], r["account_id"]) for r in run.task(AUDIT_TASK)["accounts"]] == [(name, organization["accounts"][name]) for name in ("dev", "staging")]
    assert "sts:AssumeRole" not in sim.counters() and sim.counters()["sts:AssumeRoot"] == 2


@pytest.mark.parametrize("name, extra_vars, fragment", [
    (CLEANUP, {}, "with no inventory, account_ids must name at least one member account"),
    (CLEANUP, {"account_ids": "12345"}, "account_ids must be a list of 12-digit AWS account ids"),
    (CLEANUP, {"account_ids": ["210987654321"], "credential_types": ["password"]}, "credential_types must be one or more of"),
    (CLEANUP, {"account_ids": ["210987654321"], "manifest_dir": "relative/dir"}, "manifest_dir must be an absolute path"),
    (AUDIT, {"account_ids": {"a": 1}}, "Invalid account_ids {'a': 1}: a list, or one string separated by commas or newlines"),
    (AUDIT, {"account_ids": "210987654321", "report_dir": "reports"}, "report_dir must be an absolute path"),
])
def test_bad_variables_are_refused_before_any_aws_call(sim, run_playbook, name, extra_vars, fragment):
    sim.reset_counters()
    run = run_playbook(name, extra_vars=extra_vars)
    assert run.rc != 0
    assert any(fragment in message for message in failure_messages(run)), failure_messages(run)
    assert not [r for r in run.results if r["task"] in MODULE_TASKS]
    assert sim.counters() == {}
