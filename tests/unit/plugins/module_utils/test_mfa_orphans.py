# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mfa_orphans: the sweep's matching, choice, re-check and deletion (iam_mfa_orphans)."""

from __future__ import annotations

import time

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import mfa_orphans, tags as mfa_tags, validation
from tests.unit.plugins.module_utils.iam_doubles import FakeIam, client_error_of, mfa_serial

ROOT = mfa_serial("root-account-mfa-device")


def serial(name, path="/"):
    return mfa_serial(name).replace(":mfa/", ":mfa%s" % path)


def options(**overrides):
    params = {"state": "absent", "name_patterns": ["*"], "path_patterns": ["*"], "min_age_minutes": 60, "include_unknown_age": True}
    params.update(overrides)
    return params


def created(minutes_ago):
    return {mfa_tags.TAG_CREATED_AT: mfa_tags.tag_time(time.time() - 60 * minutes_ago)}


@pytest.mark.parametrize("name_patterns, path_patterns, chosen", [
    (["*"], ["*"], ["/bob", "/team/x1", "/team/a/y1", "/other/X2"]),
    (["x?", "old*"], ["/team/*"], ["/team/x1"]),  # /team/* spans folders, but y1 does not match the names
    (["Y*"], ["/team/*"], ["/team/a/y1"]),  # case-insensitive
    (["*"], ["/"], ["/bob"]),
    (["*"], ["/team/"], ["/team/x1"]),
    (["*"], ["/te?m/"], ["/team/x1"]),
    (["b*"], ["*"], ["/bob"]),
    (["ob"], ["*"], []),  # the name is the last segment whole: 'ob' is not 'bob'
    (["[b]ob"], ["*"], []),  # only * and ? are special
])
def test_patterns_as_the_playbook_had_them(name_patterns, path_patterns, chosen):
    opts = mfa_orphans.sweep_options(options(name_patterns=name_patterns, path_patterns=path_patterns))
    serials = [serial("bob"), serial("x1", "/team/"), serial("y1", "/team/a/"), serial("X2", "/other/")]
    assert [s.split(":mfa", 1)[1] for s in serials if mfa_orphans.matches(opts, s)] == chosen


@pytest.mark.parametrize("overrides, fragment", [
    ({"name_patterns": []}, "non-empty list"),
    ({"name_patterns": [""]}, "non-empty list"),
    ({"name_patterns": ["team/x"]}, "holds no '/'"),
    ({"path_patterns": ["team/"]}, "starts with '/'"),
    ({"min_age_minutes": -1}, "0 or more"),
])
def test_bad_options_are_refused_before_any_call(overrides, fragment):
    with pytest.raises(validation.InvalidInput) as refused:
        mfa_orphans.sweep(FakeIam(), options(**overrides), False)
    assert fragment in refused.value.message


def _account(fake):
    fake.add_user("ada", virtual=[serial("ada")])
    for name in ("old", "young", "undated", "pending", "halfway", "other-team"):
        fake.virtual[serial(name) if name != "other-team" else serial("z", "/other/")] = None
    fake.virtual[ROOT] = None  # root's, even unassigned, is never an orphan
    fake.tags[serial("old")] = created(120)
    fake.tags[serial("young")] = created(5)
    fake.tags[serial("pending")] = dict(created(600), **{mfa_tags.TAG_ENROLMENT: mfa_tags.TWO_STEP, mfa_tags.TAG_SEED_SHA256: "x"})
    fake.tags[serial("halfway")] = dict(created(1), **{mfa_tags.TAG_REMOVING_FROM: "gone-user"})


def test_check_mode_plans_and_apply_deletes_alone():
    fake = FakeIam()
    _account(fake)
    opts = options(path_patterns=["/"])
    planned = mfa_orphans.sweep(fake, opts, True)
    assert fake.mutations() == []
    deleted = [serial("halfway"), serial("old"), serial("undated")]
    assert [d["serial_number"] for d in planned["deleted"]] == deleted
    assert {d["serial_number"]: d["reason"] for d in planned["deleted"]} == {
        serial("halfway"): "removal_intent", serial("old"): "orphan", serial("undated"): "unknown_age"}
    assert {d["serial_number"]: d["reason"] for d in planned["kept"]} == {serial("young"): "too_young", serial("pending"): "pending_enrolment"}
    applied = mfa_orphans.sweep(fake, opts, False)
    assert applied["actions"] == planned["actions"] and applied["changed"] is True
    # DeleteVirtualMFADevice alone, never a deactivation, each right after its tags were read again
    assert [op for op, dummy in fake.calls if op in ("list_mfa_device_tags", "delete_virtual_mfa_device", "deactivate_mfa_device")][-6:] == [
        "list_mfa_device_tags", "delete_virtual_mfa_device"] * 3
    assert sorted(fake.virtual) == sorted([serial("ada"), serial("young"), serial("pending"), serial("z", "/other/"), ROOT])
    assert applied["summary"] == {"unassigned": 6, "deleted": 3, "changed_meanwhile": 0, "kept": 2}
    again = mfa_orphans.sweep(fake, opts, False)
    assert again["changed"] is False and again["deleted"] == []


def test_unknown_age_kept_when_not_included():
    fake = FakeIam()
    _account(fake)
    result = mfa_orphans.sweep(fake, options(include_unknown_age=False, min_age_minutes=0), True)
    assert {d["serial_number"]: d["reason"] for d in result["kept"]}[serial("undated")] == "unknown_age"
    assert serial("young") in [d["serial_number"] for d in result["deleted"]]


class RacingIam(FakeIam):
    """Between the sweep's list and its deletions: each device in ``races`` changes on the second read of its tags."""

    def __init__(self, races):
        super().__init__()
        self.races = races
        self.reads = {}

    def list_mfa_device_tags(self, SerialNumber, MaxItems):
        self.reads[SerialNumber] = self.reads.get(SerialNumber, 0) + 1
        if self.reads[SerialNumber] == 2 and SerialNumber in self.races:
            self.races[SerialNumber](self, SerialNumber)
        return super().list_mfa_device_tags(SerialNumber, MaxItems)

    def enabled(self, serial_number):
        self.virtual[serial_number] = "ada"

    def recreated(self, serial_number):
        self.tags[serial_number] = created(0)

    def pending(self, serial_number):
        self.tags[serial_number] = dict(self.tags.get(serial_number, {}), **{mfa_tags.TAG_ENROLMENT: mfa_tags.TWO_STEP, mfa_tags.TAG_SEED_SHA256: "x"})

    def tagged(self, serial_number):
        self.tags[serial_number] = dict(self.tags.get(serial_number, {}), owner="ops")

    def gone(self, serial_number):
        del self.virtual[serial_number]


def test_a_device_that_changed_since_the_list_is_skipped_with_its_reason():
    fake = RacingIam({serial("a"): RacingIam.enabled, serial("b"): RacingIam.recreated, serial("c"): RacingIam.pending,
                      serial("d"): RacingIam.tagged, serial("e"): RacingIam.gone})
    fake.add_user("ada")
    for name in "abcdef":
        fake.virtual[serial(name)] = None
        fake.tags[serial(name)] = created(600) if name != "c" else {}
    result = mfa_orphans.sweep(fake, options(), False)
    assert {d["serial_number"]: d["reason"] for d in result["changed_meanwhile"]} == {
        serial("a"): "assigned_meanwhile", serial("b"): "recreated_meanwhile", serial("c"): "pending_enrolment_meanwhile",
        serial("d"): "tags_changed_meanwhile", serial("e"): "gone"}
    assert [d["serial_number"] for d in result["deleted"]] == [serial("f")]
    assert serial("a") in fake.virtual and fake.virtual[serial("a")] == "ada"  # the device she enabled is hers, untouched
    assert ("deactivate_mfa_device", {"UserName": "ada", "SerialNumber": serial("a")}) not in fake.calls


def test_other_errors_fail_the_task():
    class Denied(FakeIam):
        def delete_virtual_mfa_device(self, SerialNumber):
            raise client_error_of("AccessDenied", "not allowed", "DeleteVirtualMFADevice")

    fake = Denied()
    fake.virtual[serial("old")] = None
    with pytest.raises(mfa_orphans.IamGuardError, match="AccessDenied"):
        mfa_orphans.sweep(fake, options(), False)
