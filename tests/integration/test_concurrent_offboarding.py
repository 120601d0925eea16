"""Two offboardings of the same users at once, as a double-launched AWX job template starts them.

Both runs share one manifest folder and start within the same second, so before manifest names
carried a per-process token they collided (one run failed on the other's file) and the message
named an option iam_user_purge does not have. Both must end well: rc 0, the users gone, each
run's manifests whole, every removal the other run got to first counted as done.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

from tests.integration.playbooks import failure_messages
from tests.simulator.seed import make_user

PURGE_TASK = "purge"
LEAVERS = ("alice", "bob", "carol")
ROUNDS = 3


def test_double_launched_offboarding_both_end_well(iam, run_playbook, tmp_path):
    manifests = tmp_path / "manifests"
    manifests.mkdir(mode=0o700)
    for round_number in range(ROUNDS):
        for name in LEAVERS:
            make_user(iam, name, login_profile=True, access_keys=2, ssh_keys=1, virtual_mfa=1, groups=("staff",), inline_policies=1)
        play = {"hosts": "localhost", "gather_facts": False,
                "tasks": [{"name": PURGE_TASK, "iamguard.aws.iam_user_purge": {"user_names": list(LEAVERS), "manifest_dir": str(manifests)}}]}
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(lambda dummy: run_playbook([play]), range(2)))

        for run in runs:
            assert run.rc == 0, (round_number, failure_messages(run), run)
            assert "force=true" not in run.stdout
            for user in run.task(PURGE_TASK)["users"]:
                assert user["status"] in ("deleted", "absent"), user
                if user["manifest"]:
                    with open(user["manifest"], encoding="utf-8") as handle:
                        document = json.load(handle)  # whole: parses, and names its user
                    assert document["user"]["user_name"] == user["user_name"]
        assert not {u["UserName"] for u in iam.list_users()["Users"]} & set(LEAVERS)
        assert iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"] == []
        written = [user["manifest"] for run in runs for user in run.task(PURGE_TASK)["users"] if user["manifest"]]
        assert len(written) == len(set(written)) >= len(LEAVERS)  # every user in at least one manifest, no name shared
    assert len(os.listdir(manifests)) >= ROUNDS * len(LEAVERS)
