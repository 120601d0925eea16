"""playbooks/offboard.yml through ansible-playbook against the simulator: one account and two."""

from __future__ import annotations

import os
import stat

from tests.integration.playbooks import (MAIN_ACCOUNT, OTHER_ACCOUNT, assert_refused, failure_messages, other_account_iam,
                                         playbook, two_account_inventory)
from tests.simulator.seed import account_snapshot, make_user

OFFBOARD = playbook("offboard.yml")
PLAN_TASK = "Offboard - each user"
PURGE_TASK = "Offboard - purge the users"
SUMMARY_TASK = "Offboard - summary"


def users(iam):
    return sorted(u["UserName"] for u in iam.list_users()["Users"])


def plan_lines(run, host="localhost"):
    """Each user's first line: what happened (or would, under --check)."""
    return [item["msg"][0] for item in run.task(PLAN_TASK, host)["results"]]


def plan_blocks(run, host="localhost"):
    """Each user's lines: the first, then one action a line."""
    return [item["msg"] for item in run.task(PLAN_TASK, host)["results"]]


def test_check_then_real_run_with_a_survey_string_and_a_protected_user(iam, run_playbook, tmp_path):
    """Survey strings, check mode then for real then again; a protected target gets status protected with its reason
    in every run, and the run goes on with the others."""
    make_user(iam, "alice", login_profile=True, access_keys=1, virtual_mfa=1, groups=("staff",))
    make_user(iam, "bob", login_profile=True)
    make_user(iam, "carol")
    make_user(iam, "break-glass-admin", login_profile=True)
    manifests = tmp_path / "manifests"
    # as an AWX survey text area gives them
    extra = {"offboard_users": "alice,\nbob , break-glass-admin", "protected_users": "break-glass-*", "manifest_dir": str(manifests)}

    before = account_snapshot(iam)
    planned = run_playbook(OFFBOARD, extra_vars=extra, check=True)
    assert planned.rc == 0, failure_messages(planned)
    assert account_snapshot(iam) == before
    assert not manifests.exists()
    # One block per user, one action a line (issue 21).
    alice, bob, protected = plan_blocks(planned)
    # login profile, key, the removal's intent tag on the virtual device, deactivate, delete device, group, user
    assert alice[0] == "%s alice: would be deleted - 7 actions:" % MAIN_ACCOUNT and len(alice) == 8
    assert alice[1] == "  delete_login_profile alice" and alice[2].startswith("  delete_access_key ")
    assert alice[-2:] == ["  remove_user_from_group staff", "  delete_user alice"]
    assert bob == ["%s bob: would be deleted - 2 actions:" % MAIN_ACCOUNT, "  delete_login_profile bob", "  delete_user bob"]
    assert protected[0].startswith("%s break-glass-admin: protected - " % MAIN_ACCOUNT) and "break-glass-*" in protected[0]
    assert planned.task(SUMMARY_TASK)["msg"] == (
        "%s: 3 users (--check: nothing was changed): 2 would_delete, 1 protected; 0 matching no IAM user" % MAIN_ACCOUNT)

    done = run_playbook(OFFBOARD, extra_vars=extra)
    assert done.rc == 0, failure_messages(done)
    assert users(iam) == ["break-glass-admin", "carol"]
    purged = done.task(PURGE_TASK)["users"]
    assert [u["actions"] for u in purged] == [u["actions"] for u in planned.task(PURGE_TASK)["users"]]
    assert [u["status"] for u in purged] == ["deleted", "deleted", "protected"]
    for user in purged[:2]:
        assert os.path.dirname(user["manifest"]) == str(manifests)
        assert stat.S_IMODE(os.stat(user["manifest"]).st_mode) == 0o600
        assert "manifest %s" % user["manifest"] in " ".join(plan_lines(done))
    assert plan_lines(done)[2].startswith("%s break-glass-admin: protected - " % MAIN_ACCOUNT)
    assert stat.S_IMODE(os.stat(manifests).st_mode) == 0o700
    assert done.task(SUMMARY_TASK)["msg"] == "%s: 3 users: 2 deleted, 1 protected; 0 matching no IAM user; manifests in %s (2 written by this run)" % (
        MAIN_ACCOUNT, manifests)
    # A real run names no check mode anywhere (issue 21: "purge the users (in check mode, plan them)").
    assert "check mode" not in " ".join(record["task"] for record in done.results)

    again = run_playbook(OFFBOARD, extra_vars=extra)
    assert again.rc == 0 and again.task(PURGE_TASK)["changed"] is False
    assert [u["status"] for u in again.task(PURGE_TASK)["users"]] == ["absent", "absent", "protected"]


def test_disable_keeps_the_user_without_credentials(iam, run_playbook, tmp_path):
    make_user(iam, "dave", login_profile=True, access_keys=1, groups=("staff",))
    erin = make_user(iam, "erin", access_keys=1)
    run = run_playbook(OFFBOARD, extra_vars={"offboard_users": ["dave"], "offboard_mode": "disable", "manifest_dir": str(tmp_path)})
    assert run.rc == 0, failure_messages(run)
    left = account_snapshot(iam)["users"]["dave"]
    assert left["login_profile"] is False and left["access_keys"] == {} and left["groups"] == ["staff"]
    assert plan_lines(run)[0].startswith("%s dave: disabled - manifest " % MAIN_ACCOUNT)

    kept_keys = run_playbook(OFFBOARD, extra_vars={"offboard_users": "erin", "offboard_mode": "disable",
                                                   "offboard_access_key_action": "deactivate", "manifest_dir": str(tmp_path)})
    assert kept_keys.rc == 0, failure_messages(kept_keys)
    assert account_snapshot(iam)["users"]["erin"]["access_keys"] == {erin["access_key_ids"][0]: "Inactive"}


def test_wrong_account_id_fails_that_host_and_changes_nothing_there(sim, iam, run_playbook, tmp_path):
    other = other_account_iam(sim)
    for client in (iam, other):
        make_user(client, "leaver")
    inventory = two_account_inventory(tmp_path / "accounts.yml", other={"aws_account_id": "999999999999"})
    run = run_playbook(OFFBOARD, extra_vars={"offboard_users": "leaver", "manifest_dir": str(tmp_path)}, inventory=inventory)
    assert run.rc != 0
    assert users(other) == ["leaver"]
    assert users(iam) == []  # the other host went on
    (message,) = failure_messages(run)
    assert "aws_account_id is 999999999999" in message and "account %s" % OTHER_ACCOUNT in message
    assert run.stats["other"]["failures"] == 1 and run.stats["main"]["failures"] == 0


def test_invalid_variables_are_refused_before_any_call(iam, run_playbook, tmp_path):
    make_user(iam, "alice")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    # Each rule is a unit test (test_playbook_settings.py, test_files.py, test_preflight.py); here each kind of refusal
    # once through the playbook: a missing variable, a list that is no list, several broken rules in one message, folders,
    # the caller-account switch.
    cases = [
        ({}, "offboard_users is required"),
        ({"offboard_users": {"alice": 1}}, "Invalid offboard_users {'alice': 1}: a list, or one string separated by commas or newlines"),
        ({"offboard_users": ["alice", "bad name"], "offboard_mode": "purge", "offboard_fail_on_missing": "maybe"},
         "refused: bad name", "offboard_mode must be delete or disable (got purge)", "Invalid offboard_fail_on_missing 'maybe': true or false"),
        ({"offboard_users": "alice", "manifest_dir": "relative/dir"}, "manifest_dir must be an absolute path (got relative/dir)"),
        ({"offboard_users": "alice", "manifest_dir": str(shared)}, "manifest_dir: folder %s is writable by everyone (mode 0777)" % shared),
        ({"offboard_users": "alice", "manifest_dir": str(a_file / "sub")}, "manifest_dir: %s is a file, not a folder" % a_file),
        ({"offboard_users": "alice", "aws_target_caller_account": "maybe"}, "Invalid aws_target_caller_account 'maybe': true or false"),
    ]
    for extra, *fragments in cases:
        assert_refused(run_playbook, iam, "offboard.yml", extra, *fragments)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o777  # an existing folder's mode is never changed


def test_offboard_reads_the_account_as_a_whole_when_asked(iam, run_playbook, tmp_path):
    for name in ("leaver-a", "leaver-b", "stays"):
        make_user(iam, name, login_profile=True, access_keys=1, virtual_mfa=1, groups=("staff",))
    run = run_playbook(OFFBOARD, extra_vars={"offboard_users": "leaver-a,leaver-b", "offboard_inventory_source": "account",
                                             "manifest_dir": str(tmp_path)})
    assert run.rc == 0, run.stdout
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["stays"]
    assert not iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]


def test_malformed_account_variables_stop_the_whole_run_before_any_call(sim, iam, run_playbook, tmp_path):
    """A broken inventory is refused as a whole: no host proceeds, not even the well-formed one."""
    make_user(iam, "leaver")
    inventory = two_account_inventory(tmp_path / "accounts.yml", other={"aws_role_arn": "arn:aws:iam::21098765432:role/x"})
    sim.reset_counters()
    run = run_playbook(OFFBOARD, extra_vars={"offboard_users": "leaver", "manifest_dir": str(tmp_path)}, inventory=inventory)
    assert run.rc != 0
    (message,) = failure_messages(run)
    assert message == "other: aws_role_arn must be an IAM role ARN (arn:aws:iam::<12-digit account id>:role/<name>). Nothing was called in AWS."
    assert run.stats["other"]["failures"] == 1
    assert sim.counters() == {} and users(iam) == ["leaver"]


def test_the_example_inventory(sim, run_playbook):
    """The shipped example: its role hosts act in their own accounts; the caller's own account here is not 111111111111."""
    run = run_playbook(OFFBOARD, extra_vars={"offboard_users": "leaver"}, check=True,
                       inventory=os.path.join(os.path.dirname(OFFBOARD), "inventory", "accounts.example.yml"))
    assert run.stats["production"]["failures"] == run.stats["staging"]["failures"] == 0
    assert [line.split()[0] for host in ("production", "staging") for line in plan_lines(run, host)] == ["222222222222", "333333333333"]
    assert run.stats["security-tooling"]["failures"] == 1
    assert "aws_account_id is 111111111111" in failure_messages(run)[0]
