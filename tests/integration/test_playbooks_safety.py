# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the playbooks act (issue 18, items 1, 10, 11): a broken or empty inventory fails the run before any AWS call;
--check exports what would happen; a name matching no user stands out; the role sessions' key ids and secrets stay out
of -vvvv; two accounts, check mode then for real, each with its own manifest."""

from __future__ import annotations

import json
import os

import yaml

from tests.integration.playbooks import (MAIN_ACCOUNT, OTHER_ACCOUNT, failure_messages, other_account_iam, playbook, role_session_secrets,
                                         two_account_inventory)
from tests.simulator import seed
from tests.simulator.seed import make_user

OFFBOARD = playbook("offboard.yml")


def users(iam):
    return sorted(u["UserName"] for u in iam.list_users()["Users"])


def test_a_broken_or_empty_inventory_acts_nowhere(sim, iam, run_playbook, tmp_path):
    seed.seed_organization(sim, members=("dev",), ous={"Workloads": ["dev"]})
    make_user(iam, "alice", login_profile=True)
    typo = tmp_path / "typo.accounts.yml"  # exclude_ids: an id of 5 digits
    typo.write_text(yaml.safe_dump({"plugin": "iamguard.aws.accounts", "exclude_ids": ["12345"]}), encoding="utf-8")
    unknown_key = tmp_path / "key.accounts.yml"
    unknown_key.write_text(yaml.safe_dump({"plugin": "iamguard.aws.accounts", "exclude_id": ["123456789012"]}), encoding="utf-8")
    not_a_bool = tmp_path / "bool.accounts.yml"
    not_a_bool.write_text(yaml.safe_dump({"plugin": "iamguard.aws.accounts", "include_management": "maybe"}), encoding="utf-8")
    empty = tmp_path / "web.ini"  # an inventory without group aws_accounts
    empty.write_text("[web]\nweb1 ansible_connection=local\n", encoding="utf-8")
    cases = [
        (OFFBOARD, typo, "Invalid exclude_ids '12345': an AWS account id is exactly 12 digits"),
        (OFFBOARD, unknown_key, "unknown option exclude_id"),
        (OFFBOARD, not_a_bool, "include_management must be true or false (got 'maybe')"),
        (playbook("orphan_cleanup.yml"), typo, "Invalid exclude_ids '12345'"),
        (OFFBOARD, empty, "has no host in group aws_accounts, so this run acts nowhere"),
    ]
    for path, inventory, fragment in cases:
        sim.reset_counters()
        run = run_playbook(path, inventory=inventory, extra_vars={"offboard_users": "alice", "manifest_dir": str(tmp_path / "m")})
        assert run.rc != 0, run
        messages = " ".join(failure_messages(run))
        assert fragment in " ".join(messages.split()) and "The inventory" in messages, messages
        assert sim.counters() == {}, (inventory, sim.counters())  # not one AWS call
        assert {record["host"] for record in run.results} == {"localhost"}
    assert users(iam) == ["alice"] and not (tmp_path / "m").exists()


def test_organizations_access_denied_acts_nowhere(sim, iam, run_playbook, tmp_path):
    org = seed.seed_organization(sim, members=("dev",), ous={"Workloads": ["dev"]})
    make_user(iam, "alice", login_profile=True)
    denied = tmp_path / "member.accounts.yml"  # a member account may not list the organization
    denied.write_text(yaml.safe_dump({"plugin": "iamguard.aws.accounts",
                                      "assume_role_arn": "arn:aws:iam::%s:role/OrganizationAccountAccessRole" % org["accounts"]["dev"]}),
                      encoding="utf-8")
    for path in (OFFBOARD, playbook("orphan_cleanup.yml")):
        sim.reset_counters()
        run = run_playbook(path, inventory=denied, extra_vars={"offboard_users": "alice"})
        assert run.rc != 0, run
        assert "AccessDeniedException" in " ".join(failure_messages(run))
        # Only the plugin's own calls (AssumeRole, ListRoots), in no account anything else.
        for account in (MAIN_ACCOUNT, org["accounts"]["dev"]):
            assert not {name for name in sim.counters(account) if name.startswith("iam:")}, sim.counters(account)
    assert users(iam) == ["alice"]


def test_caller_account_is_an_explicit_choice_with_an_inventory(iam, run_playbook, tmp_path):
    """AWX's localhost-only inventory: acts on the caller's account only with aws_target_caller_account."""
    make_user(iam, "alice", login_profile=True)
    inventory = tmp_path / "hosts"
    inventory.write_text("localhost ansible_connection=local\n", encoding="utf-8")
    run = run_playbook(OFFBOARD, inventory=inventory, check=True,
                       extra_vars={"offboard_users": "alice", "aws_target_caller_account": "true", "manifest_dir": str(tmp_path / "m")})
    assert run.rc == 0, failure_messages(run)
    assert run.task("Pre-flight - where this run acts")["msg"] == (
        "aws_target_caller_account is true: this run acts on the account of the caller's own credentials, from localhost.")
    assert run.task("Offboard - each user")["results"][0]["msg"][0] == "%s alice: would be deleted - 2 actions:" % MAIN_ACCOUNT


def test_two_accounts_check_then_real_missing_users_stand_out_and_no_session_secret_reaches_the_output(sim, iam, run_playbook, tmp_path):
    """offboard.yml over two accounts (the other through its role): --check plans and changes nothing; the real run offboards
    in both and writes each account's manifest; a name matching no user stands out; the role sessions' key ids and secrets
    never reach the output (-vvvv, -vvv) or the results."""
    other = other_account_iam(sim)
    for client in (iam, other):
        make_user(client, "leaver", login_profile=True, access_keys=1)
        make_user(client, "stays")
    inventory = two_account_inventory(tmp_path / "accounts.yml")
    manifests = tmp_path / "manifests"
    extra = {"offboard_users": "leaver, levaer", "manifest_dir": str(manifests)}
    planned = run_playbook(OFFBOARD, inventory=inventory, check=True, extra_vars=extra, verbosity=4, stdout_callback="ansible.builtin.default")
    assert planned.rc == 0, planned
    assert "levaer: no IAM user of this name (or id) in account %s" % OTHER_ACCOUNT in " ".join(planned.stderr.split())
    for host, account in (("main", MAIN_ACCOUNT), ("other", OTHER_ACCOUNT)):
        assert planned.task("Offboard - summary", host)["msg"] == (
            "%s: 2 users (--check: nothing was changed): 1 absent, 1 would_delete; 1 matching no IAM user (levaer)" % account)
    assert users(iam) == users(other) == ["leaver", "stays"] and not manifests.exists()  # --check creates no folder

    done = run_playbook(OFFBOARD, inventory=inventory, extra_vars=dict(extra, offboard_fail_on_missing=True), verbosity=3)
    assert done.rc != 0
    assert users(iam) == users(other) == ["stays"]  # the others are done, then the task fails naming the missing one
    assert all("levaer: no such user" in message for message in failure_messages(done)), failure_messages(done)
    # One manifest per account, each naming its own account.
    written = sorted(os.listdir(manifests))
    assert [name.split("-")[0] for name in written] == sorted([MAIN_ACCOUNT, OTHER_ACCOUNT])
    for name in written:
        with open(os.path.join(manifests, name), encoding="utf-8") as handle:
            assert ":%s:" % name.split("-")[0] in json.dumps(json.load(handle))

    secrets = role_session_secrets(OTHER_ACCOUNT)
    assert len(secrets) == 3 * 3  # the test's own session, then one per run; a key id and two secrets each
    for run in (planned, done):
        assert all(secret not in run.stdout + run.stderr for secret in secrets)
        assert all(secret not in json.dumps(record) for record in run.results for secret in secrets)
