# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's documentation renders, and every EXAMPLES block runs as written against the simulator.

One ansible-doc call reads every module's documentation (doc fragments resolved) and its EXAMPLES.
The examples then run, task for task, in two ansible-playbook runs: the second step of a person's
enrolment needs the two codes the person would read from the app, which the test computes between
the runs from the seed of the device the first step created. Only what cannot be the same here is
changed, and only in values: absolute file paths move under the test's temporary folder (the
modules create the missing folders themselves), the example member account id becomes the
simulated organization's, and the variables an example names (code_1, leavers) are given.
"""

from __future__ import annotations

import json
import os
import subprocess

import yaml

from tests.integration.playbooks import device_seed
from tests.simulator.seed import consecutive_codes, make_orphan, make_user, seed_organization, seed_root_credentials

MODULES = ("iam_mfa_device_info", "iam_mfa_audit", "iam_posture_report", "iam_mfa_orphans", "iam_root_credentials_info", "iam_root_credentials", "preflight",
           "iam_mfa_device", "iam_user_purge")
PATH_OPTIONS = ("qr_code_png_path", "seed_path", "report_dir", "manifest_dir")
EXAMPLE_MEMBER = "210987654321"
ACCOUNT = "123456789012"
# The task of iam_mfa_device's EXAMPLES after which the person reads the codes (the second run starts after it).
FIRST_STEP = "Step 1 of a person's enrolment - create the device and hand over its QR code"


def module_docs(ansible_base_env):
    """ansible-doc --json of every module: {name: {"doc": ..., "examples": ...}}."""
    command = [os.path.join(os.path.dirname(ansible_base_env["IAMGUARD_ANSIBLE_PLAYBOOK"]), "ansible-doc"), "--json", "-t", "module"]
    done = subprocess.run(command + ["iamguard.aws.%s" % name for name in MODULES], env=ansible_base_env, capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0 and "[ERROR]" not in done.stderr, done.stderr
    docs = json.loads(done.stdout)
    return {name.rsplit(".", 1)[-1]: value for name, value in docs.items()}


def relocated(task, root, member):
    """``task`` with the example's absolute file paths under ``root`` and the example member account replaced by ``member``."""
    task = json.loads(json.dumps(task).replace(EXAMPLE_MEMBER, member))
    for key, args in task.items():
        if key.startswith("iamguard.aws.") and isinstance(args, dict):
            for option in PATH_OPTIONS:
                if isinstance(args.get(option), str) and args[option].startswith("/"):
                    args[option] = root + args[option]
    return task


def seed(sim, iam):
    """The users, devices and organization the examples name, in the states they suppose."""
    make_user(iam, "alice")                       # enrolled in two steps, then offboarded
    make_user(iam, "bob", virtual_mfa=1)          # lost device, then offboarded
    make_user(iam, "break-glass")                 # unattended enrolment
    make_user(iam, "carol", login_profile=True, access_keys=1, virtual_mfa=1)   # legal hold
    make_user(iam, "contractor,acme", access_keys=1)
    for name in ("dave", "erin"):
        make_user(iam, name, access_keys=1, virtual_mfa=1)
    make_orphan(iam, "test")                      # removed by serial number
    make_orphan(iam, "old-enrolment", path="/team/")
    org = seed_organization(sim, members=("dev",))
    member = org["accounts"]["dev"]
    seed_root_credentials(sim, member, mfa_devices=("virtual", "hardware"))
    return member


def test_every_module_documents_itself_and_every_example_runs(sim, iam, run_playbook, ansible_base_env, tmp_path):
    docs = module_docs(ansible_base_env)
    assert sorted(docs) == sorted(MODULES)
    for name, value in docs.items():
        assert value["doc"]["module"] == name and value["doc"]["short_description"], name
        assert "amazon.aws.boto3" not in str(value["doc"])  # resolved, not left as a name
    examples = {name: yaml.safe_load(value["examples"]) for name, value in docs.items()}

    member = seed(sim, iam)
    root = str(tmp_path / "files")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}  # preflight's example falls back to ~/iamguard/manifests

    def play(name, tasks):
        return {"name": name, "hosts": "localhost", "gather_facts": False, "tasks": [relocated(task, root, member) for task in tasks]}

    device = examples["iam_mfa_device"]
    split = [task["name"] for task in device].index(FIRST_STEP) + 1
    first = [play(name, examples[name]) for name in MODULES if name not in ("iam_mfa_device", "iam_user_purge")]
    first.append(play("iam_mfa_device, first step", device[:split]))
    run_1 = run_playbook(first, env=env)

    code_1, code_2 = consecutive_codes(device_seed(ACCOUNT, "arn:aws:iam::%s:mfa/alice" % ACCOUNT))
    second = [play("iam_mfa_device, the rest", device[split:]), play("iam_user_purge", examples["iam_user_purge"])]
    run_2 = run_playbook(second, env=env, extra_vars={"code_1": code_1, "code_2": code_2, "leavers": ["dave", "erin"]})

    records = run_1.results + run_2.results
    expected = [task["name"] for name in MODULES for task in examples[name]]
    assert sorted(record["task"] for record in records) == sorted(expected), (run_1, run_2)
    failed = [(record["task"], record["result"].get("msg")) for record in records if record["failed"]]
    assert failed == [], "\n".join(map(repr, failed))
    assert run_1.rc == 0 and run_2.rc == 0, (run_1, run_2)

    outcome = {record["task"]: record["result"] for record in records}
    assert outcome["Step 2 - enable it with two consecutive codes the person reads from the app"]["device"]["user_name"] == "alice"
    assert [user["status"] for user in outcome["Offboard them, keeping a manifest of everything removed"]["users"]] == ["deleted", "deleted"]
    assert [user["status"] for user in outcome["Legal hold - keep the user, remove every way to sign in, keep its access keys inactive"]["users"]] \
        == ["disabled"]
    assert outcome["Remove them, with a manifest"]["changed"] is True
    # Every folder an example names was created by its module, private.
    for folder in ("secure", "var/lib/iamguard/reports", "var/lib/iamguard/posture", "tmp/audit", "var/lib/offboarding", "var/lib/iamguard/root"):
        assert oct(os.stat(os.path.join(root, folder)).st_mode & 0o777) == "0o700", folder
