# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke tests of the integration harness itself (conftest.py), with amazon.aws modules only."""

from __future__ import annotations

import json
import os
import subprocess

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def test_collections_resolve_from_checkout_and_site_packages(ansible_base_env):
    galaxy = os.path.join(os.path.dirname(ansible_base_env["IAMGUARD_ANSIBLE_PLAYBOOK"]), "ansible-galaxy")
    done = subprocess.run([galaxy, "collection", "list", "--format", "json"], env=ansible_base_env, cwd=REPO,
                          capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    found = {}
    for path, collections in json.loads(done.stdout).items():
        for name in collections:
            found.setdefault(name, path)
    assert "amazon.aws" in found and "site-packages" in found["amazon.aws"]
    assert "iamguard.aws" in found
    link = os.path.join(found["iamguard.aws"], "iamguard", "aws")
    assert os.path.realpath(link) == REPO


def test_caller_identity_comes_from_the_simulator(run_module):
    result = run_module("amazon.aws.aws_caller_info", {})
    assert result["failed"] is False, result.run
    assert result["changed"] is False
    assert result["account"] == "123456789012"
    assert result.rc == 0


def test_iam_user_check_apply_idempotent_and_info(sim, iam, run_module):
    planned = run_module("amazon.aws.iam_user", {"name": "harness-user", "state": "present"}, check=True)
    assert planned["failed"] is False, planned.run
    assert planned["changed"] is True
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []

    created = run_module("amazon.aws.iam_user", {"name": "harness-user", "state": "present"})
    assert created["changed"] is True
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["harness-user"]
    # stdout carries every return value (ansible.posix.json), whatever the verbosity.
    assert created["user"]["arn"] in created.stdout

    again = run_module("amazon.aws.iam_user", {"name": "harness-user", "state": "present"})
    assert again["changed"] is False

    info = run_module("amazon.aws.iam_user_info", {"name": "harness-user"})
    assert [u["user_name"] for u in info["iam_users"]] == ["harness-user"]
    assert sim.counters(), "the simulator counted no API call"


def test_each_test_starts_with_an_empty_account(iam):
    assert iam.list_users()["Users"] == []


def test_failures_come_back_as_results(run_module):
    result = run_module("amazon.aws.iam_user_info", {"name": "x", "no_such_option": 1})
    assert result["failed"] is True
    assert "no_such_option" in result["msg"]
    assert result.rc == 0  # ignore_errors: true


def test_run_playbook_flags_extra_vars_env_and_results(run_playbook):
    run = run_playbook([{
        "name": "harness",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {"name": "modes", "ansible.builtin.assert": {"that": [
                "ansible_check_mode",
                "ansible_diff_mode",
                "ansible_verbosity == 2",
                "greeting == 'hello'",
                "lookup('ansible.builtin.env', 'IAMGUARD_PROBE') == 'probe'",
                "lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') is match('http://127[.]0[.]0[.]1:')",
                "lookup('ansible.builtin.env', 'AWS_PROFILE') == ''",
            ]}},
            {"name": "python", "ansible.builtin.command": "{{ ansible_playbook_python }} -c 'import boto3, pyotp'",
             "check_mode": False, "changed_when": False},
            {"name": "boom", "ansible.builtin.fail": {"msg": "planned failure"}},
            {"name": "never", "ansible.builtin.debug": {"msg": "not reached"}},
        ],
    }], extra_vars={"greeting": "hello"}, check=True, diff=True, verbosity=2,
        env={"IAMGUARD_PROBE": "probe", "AWS_PROFILE": None})
    assert run.rc == 2, run
    assert [(r["task"], r["status"]) for r in run.results] == [("modes", "ok"), ("python", "ok"), ("boom", "failed")]
    assert run.task("boom")["msg"] == "planned failure"
    assert [r["task"] for r in run.failed] == ["boom"]
    assert run.results[0]["host"] == "localhost" and run.results[0]["play"] == "harness"
    assert run.stats["localhost"]["failures"] == 1


def test_playbook_from_a_file(run_playbook, tmp_path):
    path = tmp_path / "play.yml"
    path.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - name: echo\n      ansible.builtin.debug:\n        msg: from a file\n", encoding="utf-8")
    run = run_playbook(path)
    assert run.rc == 0, run
    assert run.task("echo")["msg"] == "from a file"
    assert "[WARNING]" not in run.stderr, run.stderr


def test_options_set_by_a_test_are_undone_for_the_next_1(sim):
    sim.configure(require_mfa_session=True, latency=0.01)


def test_options_set_by_a_test_are_undone_for_the_next_2(sim, simulator):
    assert simulator.iamguard_default_options["require_mfa_session"] is False
    options = sim.options() if callable(sim.options) else sim.options
    assert options == simulator.iamguard_default_options


def test_env_sh_builds_the_collection_tree_once_when_processes_race(tmp_path):
    """Two pytest workers source scripts/env.sh at the same time on a fresh clone: the link to the checkout is
    made once, and never inside the checkout (ln -s into an existing link to a folder would put it there)."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "env.sh").write_bytes(open(os.path.join(REPO, "scripts", "env.sh"), "rb").read())
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path)}
    for attempt in range(10):
        build = tmp_path / ("build-%d" % attempt)
        procs = [subprocess.Popen(["bash", "-c", '. "$1"', "env.sh", str(root / "scripts" / "env.sh")],
                                  env=dict(env, IAMGUARD_BUILD_DIR=str(build)), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for dummy in range(6)]
        errors = [proc.communicate()[1].decode() for proc in procs]
        assert os.readlink(build / "collections" / "ansible_collections" / "iamguard" / "aws") == str(root)
        assert sorted(os.listdir(root)) == ["scripts"], errors
        assert errors == [""] * 6
