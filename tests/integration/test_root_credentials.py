# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_root_credentials and iam_root_credentials_info through ansible-playbook against the simulated organization.

The caller is the management account (the default test credentials); members get root
sessions with sts:AssumeRoot. Root's state is read back through the simulator's own root
credentials of the member, never through the code under test.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.simulator import root as sim_root
from tests.simulator.policies import attach_scp
from tests.simulator.seed import seed_organization, seed_root_credentials

CLEANUP = "iamguard.aws.iam_root_credentials"
INFO = "iamguard.aws.iam_root_credentials_info"
KINDS = ("virtual", "hardware", "passkey")


def root_state(account):
    """What the member's root holds, and every virtual device of the account (an orphan would show here).

    Read from the simulator's own model (it runs in this process): reading through the API would need root
    credentials, and the simulator's root access keys are root's credentials too.
    """
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    root = sim_root.root_user(account)
    return {
        "login_profile": root.login_profile is not None,
        "access_keys": sorted(root.access_keys),
        "signing_certificates": sorted(root.certificates),
        "mfa_devices": [serial for serial, dummy in root.mfa_devices()],
        "virtual_mfa_devices": sorted(iam_backends[account]["aws"].virtual_mfa_devices),
    }


def run_tasks(run_playbook, tasks, check=False):
    """Several module tasks in one ansible-playbook run (cheaper than a run each): {task name: result}.

    ``tasks``: (name, module, args, check_mode or None) tuples; the run itself is under the name None."""
    play = {"name": "root credentials", "hosts": "localhost", "gather_facts": False,
            "tasks": [dict({"name": name, module: args, "ignore_errors": True}, **({} if mode is None else {"check_mode": mode}))
                      for name, module, args, mode in tasks]}
    run = run_playbook([play], check=check)
    results = {name: run.task(name) for name, dummy, dummy, dummy in tasks}
    results[None] = run
    return results


def changing_calls(sim, account):
    return {name: n for name, n in sim.counters(account).items()
            if name.startswith(("iam:Delete", "iam:Deactivate", "iam:Create", "iam:Enable", "iam:Update"))}


@pytest.fixture
def organization(sim):
    org = seed_organization(sim)
    seeded = {name: seed_root_credentials(sim, account, mfa_devices=KINDS) for name, account in org["accounts"].items()}
    org["seeded"] = seeded
    return org


def test_check_mode_plans_apply_does_the_same_and_a_second_run_changes_nothing(sim, organization, run_module, tmp_path):
    dev = organization["accounts"]["dev"]
    seeded = organization["seeded"]["dev"]
    before = root_state(dev)
    assert before["login_profile"] and len(before["mfa_devices"]) == 3
    sim.reset_counters()

    check = run_module(CLEANUP, {"account_id": dev, "manifest_dir": str(tmp_path)}, check=True)
    assert not check.get("failed"), check.get("msg")
    assert check["changed"] is True and check["manifest"] is None
    assert root_state(dev) == before and changing_calls(sim, dev) == {}
    assert os.listdir(tmp_path) == []
    serials = seeded["mfa_serials"]
    assert check["actions"] == (
        [{"action": "delete_login_profile", "target": "root"}]
        + [{"action": "delete_access_key", "target": key} for key in seeded["access_key_ids"]]
        + [{"action": "delete_signing_certificate", "target": cert} for cert in seeded["certificate_ids"]]
        + [action for serial in before["mfa_devices"] for action in
           [{"action": "deactivate_mfa_device", "target": serial}]
           + ([{"action": "delete_virtual_mfa_device", "target": serial}] if serial == serials["virtual"] else [])]
    )
    assert {f["id"] for f in check["findings_before"]} == {"root_credentials_present", "root_virtual_mfa", "root_access_key"}
    assert check["findings_after"] == []

    real = run_module(CLEANUP, {"account_id": dev, "manifest_dir": str(tmp_path)})
    assert not real.get("failed"), real.get("msg")
    assert real["changed"] is True and real["actions"] == check["actions"]
    assert real["findings_after"] == []
    after = root_state(dev)
    assert after == {"login_profile": False, "access_keys": [], "signing_certificates": [], "mfa_devices": [],
                     "virtual_mfa_devices": []}, "no orphan virtual device may be left"

    manifest = real["manifest"]
    assert os.path.dirname(manifest) == str(tmp_path) and stat.S_IMODE(os.stat(manifest).st_mode) == 0o600
    with open(manifest, encoding="utf-8") as handle:
        text = handle.read()
    document = json.loads(text)
    assert document["account_id"] == dev and document["actions"] == real["actions"]
    assert sorted(d["serial_number"] for d in document["root_credentials"]["mfa_devices"]) == before["mfa_devices"]
    assert {d["serial_number"]: d["type"] for d in document["root_credentials"]["mfa_devices"]} == {v: k for k, v in serials.items()}
    for secret in seeded["secrets"]:
        for output in (check.stdout, check.stderr, real.stdout, real.stderr, text):
            assert secret not in output

    again = run_module(CLEANUP, {"account_id": dev, "manifest_dir": str(tmp_path)})
    assert again["changed"] is False and again["actions"] == [] and again["manifest"] is None
    assert len(os.listdir(tmp_path)) == 1

    # the other members were never touched
    for name in ("staging", "sandbox"):
        assert root_state(organization["accounts"][name])["mfa_devices"] and changing_calls(sim, organization["accounts"][name]) == {}


def test_selected_kinds_only(sim, organization, run_module):
    staging = organization["accounts"]["staging"]
    before = root_state(staging)
    done = run_module(CLEANUP, {"account_id": staging, "credential_types": ["access_keys", "mfa_devices"]})
    assert not done.get("failed"), done.get("msg")
    assert {a["action"] for a in done["actions"]} == {"delete_access_key", "deactivate_mfa_device", "delete_virtual_mfa_device"}
    after = root_state(staging)
    assert after["login_profile"] == before["login_profile"] and after["signing_certificates"] == before["signing_certificates"]
    assert after["access_keys"] == [] and after["mfa_devices"] == [] and after["virtual_mfa_devices"] == []
    # root keeps a password and a certificate, and no MFA now: the findings say so
    assert [f["id"] for f in done["findings_after"]] == ["root_credentials_present", "root_without_mfa", "no_phishing_resistant_mfa"]
    assert done["findings_after"][0]["detail"] == {"credentials": ["login_profile", "signing_certificates"]}


def test_info_reports_credentials_types_findings_and_the_scps_that_stop_a_cleanup(sim, organization, run_playbook):
    """One run: the audit in and out of check mode, and an account whose SCPs stop a cleanup (refused before any root session)."""
    accounts, seeded = organization["accounts"], organization["seeded"]["dev"]
    conditional = attach_scp(sim, organization["root_id"], [{"Sid": "OnlyFromTheSecurityTeam", "Effect": "Deny", "Action": "sts:AssumeRoot",
                                                             "Resource": "*", "Condition": {"StringNotLike": {"aws:PrincipalArn": "*:role/security-*"}}}],
                             "root-sessions-from-security-only")
    blocking = attach_scp(sim, accounts["staging"], [{"Sid": "KeepRootMfa", "Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*", "sts:*"],
                                                      "Resource": "*"}], "read-only-root")
    before = {name: root_state(account) for name, account in accounts.items()}
    sim.reset_counters()
    results = run_tasks(run_playbook, [("info check", INFO, {"account_id": accounts["dev"]}, True), ("info", INFO, {"account_id": accounts["dev"]}, None),
                                       ("info staging", INFO, {"account_id": accounts["staging"]}, None),
                                       ("cleanup staging", CLEANUP, {"account_id": accounts["staging"]}, None),
                                       ("cleanup staging check", CLEANUP, {"account_id": accounts["staging"], "credential_types": ["access_keys"]}, True)])
    for name in ("info check", "info"):
        info = results[name]
        assert not info.get("failed"), info.get("msg")
        assert info["changed"] is False and info["credentials_audited"] is True and info["scp_checked"] is True
        assert {d["serial_number"]: d["type"] for d in info["credentials"]["mfa_devices"]} == {v: k for k, v in seeded["mfa_serials"].items()}
        assert [k["access_key_id"] for k in info["credentials"]["access_keys"]] == seeded["access_key_ids"]
        assert info["counts"] == {"root_without_mfa": 0, "root_virtual_mfa": 1, "root_access_key": len(seeded["access_key_ids"]),
                                  "root_credentials_present": 1, "no_phishing_resistant_mfa": 0, "centralized_root_access_disabled": 0}
        assert info["organization"]["management_account_id"] == organization["management_account_id"]
        assert info["organization"]["enabled_features"] == ["RootCredentialsManagement", "RootSessions"]
        assert [(b["policy_id"], b["policy_name"], b["target_id"], b["sid"], b["effect"], b["actions"]) for b in info["scp_blockers"]] == [
            (conditional, "root-sessions-from-security-only", organization["root_id"], "OnlyFromTheSecurityTeam", "may deny (conditional)",
             ["sts:AssumeRoot"])]
        assert any("may be refused: SCP %s" % conditional in warning for warning in info["warnings"])
    for secret in seeded["secrets"]:
        assert secret not in results[None].stdout and secret not in results[None].stderr
    staging = results["info staging"]
    # the audit needs reads only, which the read-only SCP leaves alone
    assert not staging.get("failed") and [b["policy_id"] for b in staging["scp_blockers"]] == [conditional]
    for name in ("cleanup staging", "cleanup staging check"):
        refused = results[name]
        assert refused.get("failed") and "Nothing was changed" in refused["msg"]
        assert "SCP %s (read-only-root) attached to account %s, statement KeepRootMfa, denies iam:Delete" % (blocking, accounts["staging"]) in refused["msg"]
    assert "iam:DeactivateMFADevice" in results["cleanup staging"]["msg"] and "iam:DeactivateMFADevice" not in results["cleanup staging check"]["msg"]
    assert {name: root_state(account) for name, account in accounts.items()} == before
    assert sim.counters(accounts["staging"]).get("sts:AssumeRoot") is None and changing_calls(sim, accounts["staging"]) == {}
    assert sim.counters().get("sts:AssumeRoot") == 3  # the audits only (dev twice, staging once)


def test_management_account_is_refused_with_nothing_changed(sim, organization, run_module):
    management = organization["management_account_id"]
    for module, check in ((CLEANUP, True), (CLEANUP, False), (INFO, False)):
        refused = run_module(module, {"account_id": management}, check=check)
        assert refused.get("failed") and "management account" in refused["msg"] and "AssumeRoot cannot target it" in refused["msg"]
    assert "sts:AssumeRoot" not in sim.counters()


def test_features_not_enabled_names_them_and_how_to_enable(sim, run_playbook):
    """The cleanup is refused; the audit reports the finding and says it could not read root's credentials (one run)."""
    org = seed_organization(sim, root_features=False)
    dev = org["accounts"]["dev"]
    results = run_tasks(run_playbook, [("cleanup", CLEANUP, {"account_id": dev}, None), ("audit", INFO, {"account_id": dev}, None)])
    refused = results["cleanup"]
    assert refused.get("failed")
    how = ("RootCredentialsManagement", "RootSessions", "EnableAWSServiceAccess", "iam.amazonaws.com",
           "EnableOrganizationsRootCredentialsManagement", "EnableOrganizationsRootSessions")
    for fragment in how + ("Nothing was changed",):
        assert fragment in refused["msg"]
    audit = results["audit"]
    assert not audit.get("failed"), audit.get("msg")
    assert [f["id"] for f in audit["findings"]] == ["centralized_root_access_disabled"] and audit["findings"][0]["severity"] == "critical"
    assert audit["findings"][0]["detail"]["disabled_features"] == ["RootCredentialsManagement", "RootSessions"]
    assert audit["credentials"] is None and audit["credentials_audited"] is False and audit["scp_blockers"] == []
    assert "without RootSessions sts:AssumeRoot is impossible" in audit["warnings"][0]
    assert all(fragment in audit["findings"][0]["detail"]["how_to_enable"] for fragment in how)
    assert "sts:AssumeRoot" not in sim.counters()


def test_bad_account_id_is_refused_before_any_call(sim, run_module):
    sim.reset_counters()
    refused = run_module(CLEANUP, {"account_id": "12345"})
    assert refused.get("failed") and "account_id" in refused["msg"] and "12 digits" in refused["msg"]
    assert sim.counters() == {}


def test_a_member_account_may_not_call_it(sim, organization, run_module):
    keys = sim.root_credentials(organization["accounts"]["sandbox"])
    refused = run_module(CLEANUP, {"account_id": organization["accounts"]["dev"], "access_key": keys["access_key"],
                                   "secret_key": keys["secret_key"]})
    assert refused.get("failed") and "management account or the IAM delegated administrator" in refused["msg"]
    assert changing_calls(sim, organization["accounts"]["dev"]) == {}


def test_a_run_stopped_between_deactivate_and_delete_is_finished_by_the_next(sim, organization, run_module, tmp_path):
    dev = organization["accounts"]["dev"]
    virtual = organization["seeded"]["dev"]["mfa_serials"]["virtual"]
    # DeleteVirtualMFADevice is denied once (not retried: the run stops there): root's virtual device is left
    # deactivated and undeleted, which ListMFADevices no longer shows (the retried faults: test_faults_mfa.py)
    sim.race(fail={"action": "DeleteVirtualMFADevice", "times": 1, "code": "AccessDenied"})
    failed = run_module(CLEANUP, {"account_id": dev, "credential_types": ["mfa_devices"], "manifest_dir": str(tmp_path)})
    assert failed.get("failed") and "delete_virtual_mfa_device" in failed["msg"], failed
    passkey = organization["seeded"]["dev"]["mfa_serials"]["passkey"]
    assert root_state(dev)["mfa_devices"] == [passkey] and root_state(dev)["virtual_mfa_devices"] == [virtual]  # devices go in serial order

    check = run_module(CLEANUP, {"account_id": dev, "credential_types": ["mfa_devices"], "manifest_dir": str(tmp_path)}, check=True)
    assert check["actions"] == [{"action": "deactivate_mfa_device", "target": passkey}, {"action": "delete_virtual_mfa_device", "target": virtual}]
    done = run_module(CLEANUP, {"account_id": dev, "credential_types": ["mfa_devices"], "manifest_dir": str(tmp_path)})
    assert done["changed"] is True and done["actions"] == check["actions"]
    assert root_state(dev)["virtual_mfa_devices"] == [] and root_state(dev)["mfa_devices"] == [], "no orphan virtual device may be left"
    again = run_module(CLEANUP, {"account_id": dev, "credential_types": ["mfa_devices"], "manifest_dir": str(tmp_path)})
    assert again["changed"] is False and again["actions"] == []


def test_the_iam_delegated_administrator_may_and_still_not_for_the_management_account(sim, run_module):
    org = seed_organization(sim, delegated_admin="sandbox")
    dev = org["accounts"]["dev"]
    seed_root_credentials(sim, dev, mfa_devices=("virtual",))
    issued = sim.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/security-admin" % org["accounts"]["sandbox"],
                                           RoleSessionName="tests")["Credentials"]
    caller = {"access_key": issued["AccessKeyId"], "secret_key": issued["SecretAccessKey"], "session_token": issued["SessionToken"]}
    done = run_module(CLEANUP, dict(caller, account_id=dev))
    assert not done.get("failed"), done.get("msg")
    assert done["changed"] is True and root_state(dev)["virtual_mfa_devices"] == [] and root_state(dev)["access_keys"] == []
    refused = run_module(CLEANUP, dict(caller, account_id=org["management_account_id"]))
    assert refused.get("failed") and "AssumeRoot cannot target it" in refused["msg"]
