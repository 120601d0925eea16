"""The orphan sweep (playbooks/orphan_cleanup.yml, one iamguard.aws.iam_mfa_orphans call per account) against staged races.

Issue 18 #2: between the sweep's list and its deletions (a) a person enables one of the listed
orphans, (b) a person's step-1 enrolment deletes an orphan and creates a device of the same name
(the QR code she was handed is for that new device). Neither may be deactivated nor deleted. The
simulator stages both right after the sweep's last read of the listed devices' tags (tests/simulator/races.py).
"""

from __future__ import annotations

from tests.integration.playbooks import MAIN_ACCOUNT, device_seed, failure_messages, playbook, virtual_serials
from tests.simulator.seed import make_orphan, make_user

ORPHANS = playbook("orphan_cleanup.yml")
DONE = "Orphan cleanup - done"
SWEEP = "Orphan cleanup - delete the orphans still orphaned (one call; the choice is made in Python)"
PENDING_TAGS = {"iamguard:created-at": "2026-12-01T09:00:00Z", "iamguard:enrolment": "two-step", "iamguard:enrolment-user": "bea",
                "iamguard:seed-sha256": "0" * 64, "iamguard:qr-sha256": "1" * 64}


def serial(name, path="/"):
    return "arn:aws:iam::%s:mfa%s%s" % (MAIN_ACCOUNT, path, name)


def tags(iam, serial_number):
    return {tag["Key"]: tag["Value"] for tag in iam.list_mfa_device_tags(SerialNumber=serial_number)["Tags"]}


def test_devices_that_stopped_being_orphans_between_list_and_delete_are_left_alone(sim, iam, run_playbook):
    iam.create_user(UserName="ada")
    make_orphan(iam, "ada-phone")  # (a) ada enables it right after the list
    old_bea = make_orphan(iam, "bea")  # (b) bea's enrolment replaces it with a new device of the same name
    make_orphan(iam, "old-laptop")  # stays an orphan: deleted
    make_user(iam, "carl", virtual_mfa=1)
    # the sweep reads the tags of the 3 unassigned devices after its list; right after the third answer both races happen
    for event in ({"enable": serial("ada-phone"), "user": "ada"}, {"create": "bea", "tags": PENDING_TAGS}):
        sim.race(after={"action": "ListMFADeviceTags", "nth": 3, "do": event})
    sim.reset_counters()

    run = run_playbook(ORPHANS)
    assert run.rc == 0, failure_messages(run)
    assert len(sim.races_fired) == 2
    swept = run.task(SWEEP)
    assert [d["serial_number"] for d in swept["deleted"]] == [serial("old-laptop")]
    assert {d["serial_number"]: d["reason"] for d in swept["changed_meanwhile"]} == {
        serial("ada-phone"): "assigned_meanwhile", serial("bea"): "recreated_meanwhile"}
    assert sim.counters().get("iam:DeactivateMFADevice") is None  # the sweep never deactivates
    # (a) still ada's; (b) the device bea's QR code is for still exists, tags and all
    assert iam.list_mfa_devices(UserName="ada")["MFADevices"][0]["SerialNumber"] == serial("ada-phone")
    assert tags(iam, serial("bea")) == PENDING_TAGS and device_seed(MAIN_ACCOUNT, serial("bea")) != old_bea["seed"]
    assert virtual_serials(iam, "Unassigned") == [serial("bea")]
    assert "skipped, changed since the list: {'%s': 'assigned_meanwhile', '%s': 'recreated_meanwhile'}" % (
        serial("ada-phone"), serial("bea")) in run.task(DONE)["msg"]


def test_check_mode_plans_what_apply_does_and_a_removal_intent_is_finished_whatever_the_patterns(sim, iam, run_playbook):
    make_orphan(iam, "old-laptop")
    make_orphan(iam, "x1", path="/team/")
    halfway = make_orphan(iam, "phone", path="/elsewhere/")["serial_number"]  # a reset stopped after deactivating it tagged it first
    iam.tag_mfa_device(SerialNumber=halfway, Tags=[{"Key": "iamguard:removing-from", "Value": "gone-user"},
                                                   {"Key": "iamguard:removing-since", "Value": "2026-12-01T09:00:00Z"}])
    variables = {"orphan_path_patterns": "/team/*", "orphan_min_age_minutes": "0"}
    planned = run_playbook(ORPHANS, check=True, extra_vars=variables)
    assert planned.rc == 0, failure_messages(planned)
    assert len(virtual_serials(iam, "Unassigned")) == 3
    done = run_playbook(ORPHANS, extra_vars=variables)
    assert done.rc == 0, failure_messages(done)
    assert done.task(SWEEP)["actions"] == planned.task(SWEEP)["actions"] == [
        {"action": "delete_virtual_mfa_device", "target": halfway}, {"action": "delete_virtual_mfa_device", "target": serial("x1", "/team/")}]
    assert {d["serial_number"]: d["reason"] for d in done.task(SWEEP)["deleted"]} == {halfway: "removal_intent", serial("x1", "/team/"): "unknown_age"}
    assert virtual_serials(iam, "Unassigned") == [serial("old-laptop")]
    assert done.task(DONE)["msg"][0] == "%s: deleted 2 orphaned virtual devices" % MAIN_ACCOUNT
    again = run_playbook(ORPHANS, extra_vars=variables)
    assert again.task(DONE)["msg"][0].endswith("deleted 0 orphaned virtual devices") and not again.task(SWEEP)["changed"]
