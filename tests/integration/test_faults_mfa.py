"""A lost-device reset and an orphan sweep through the fault mix (30 % throttling, 5xx, dropped connections).

Both run through the simulator's injected faults in check mode, for real and again (the resets as module
calls in the test's process, the sweep through its playbook): each converges in one run (every device of
the users gone or only deactivated as its kind demands, every orphan deleted, nothing else touched) and
the second run changes nothing.
"""

import json
import os

from tests.integration.faults import Faults
from tests.integration.playbooks import failure_messages, playbook, virtual_serials
from tests.simulator.seed import account_snapshot, make_orphan, make_user

ORPHANS = playbook("orphan_cleanup.yml")
ROOT = "arn:aws:iam::123456789012:mfa/root-account-mfa-device"
# The sweep is one module call per account: 8 orphans show it converging, and 6 lost-device resets; IAMGUARD_BIG_FAULTS=1
# runs the 25 orphans and 12 resets of the README's figures.
BIG = os.environ.get("IAMGUARD_BIG_FAULTS") == "1"
SWEPT = 25 if BIG else 8
RESETS = 12 if BIG else 6


def _resets(run_module, names, check=False):
    """Each user's reset (iam_mfa_device state=absent, run in the test's process): {name: result}."""
    return {name: run_module("iamguard.aws.iam_mfa_device", {"user_name": name, "state": "absent"}, check=check) for name in names}


def _failures(results):
    return {name: result.get("msg") for name, result in results.items() if result["failed"]}


def test_lost_device_resets_converge_through_faults(sim, iam, run_module):
    names = ["phone-lost-%02d" % i for i in range(RESETS)]
    for name in names:
        make_user(iam, name, virtual_mfa=1, hardware_mfa=1, passkeys=1)
    make_user(iam, "bystander", virtual_mfa=1, hardware_mfa=1)
    before = account_snapshot(iam)
    faults = Faults(sim, seed=7)
    with faults:
        planned = _resets(run_module, names, check=True)
    assert _failures(planned) == {}
    assert account_snapshot(iam) == before
    with faults:
        done = _resets(run_module, names)
    assert _failures(done) == {}
    assert {name: result["actions"] for name, result in done.items()} == {name: result["actions"] for name, result in planned.items()}
    with faults:
        again = _resets(run_module, names)
    assert _failures(again) == {} and not any(result["changed"] for result in again.values())
    counts = faults.summary()
    after = account_snapshot(iam)
    assert all(after["users"][name]["mfa_devices"] == [] for name in names)
    assert after["users"]["bystander"] == before["users"]["bystander"]
    # The users' virtual devices are deleted (no orphan, even where a drop_after lost the answer to the intent tag or the
    # deactivation); the bystander's and root's stay.
    assert virtual_serials(iam) == sorted(serial for serial, holder in before["virtual_mfa_devices"].items()
                                          if holder == "bystander" or serial == ROOT)
    assert faults.injected("throttling") > 0.2 * faults.requests and faults.injected("drop_after") > 0, counts
    print("%d lost-device resets through faults: %s" % (RESETS, json.dumps(counts, sort_keys=True)))


def test_orphan_sweep_converges_through_faults(sim, iam, run_playbook):
    orphans = sorted(make_orphan(iam, "cancelled-%02d" % i)["serial_number"] for i in range(SWEPT))
    make_user(iam, "bystander", virtual_mfa=1)
    kept = virtual_serials(iam, "Assigned")
    faults = Faults(sim, seed=9)
    with faults:
        planned = run_playbook(ORPHANS, check=True)
    assert planned.rc == 0, failure_messages(planned)
    assert virtual_serials(iam, "Unassigned") == orphans
    with faults:
        done = run_playbook(ORPHANS)
        again = run_playbook(ORPHANS)
    assert done.rc == 0, failure_messages(done)
    assert again.rc == 0, failure_messages(again)
    assert again.task("Orphan cleanup - done")["msg"][0].endswith("deleted 0 orphaned virtual devices")
    counts = faults.summary()
    assert virtual_serials(iam, "Unassigned") == []
    assert virtual_serials(iam, "Assigned") == kept
    assert faults.injected("throttling") > 0.2 * faults.requests, counts
    print("sweep of %d orphans through faults: %s" % (SWEPT, json.dumps(counts, sort_keys=True)))
