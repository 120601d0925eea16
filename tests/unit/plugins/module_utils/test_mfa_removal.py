# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mfa_removal: iam_mfa_device state=absent over Stubber - what a task names, what it may remove, the removal intent."""

from __future__ import annotations

import pytest
from botocore.stub import ANY

from ansible_collections.iamguard.aws.plugins.module_utils import device_options, mfa_removal, tags as mfa_tags, validation
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from tests.unit.plugins.module_utils.mfa_stubs import (
    ACCOUNT, HARDWARE_ARN, IDENTITY, PASSKEY, ROOT_RAW, ROOT_SERIAL, VENDOR, _params, assigned, orphan, pending_tags,
    serial, stub_no_user, stub_tags, stub_user_devices, stub_virtual)

SINCE = "2005-03-18T01:58:31Z"


def _identity():
    return IDENTITY


def intent(user_name, serial_number):
    return ("tag_mfa_device", {"SerialNumber": serial_number,
                               "Tags": [{"Key": mfa_tags.TAG_REMOVING_FROM, "Value": user_name}, {"Key": mfa_tags.TAG_REMOVING_SINCE, "Value": ANY}]})


# --- ensure_absent end to end ------------------------------------------------------------------


def _absent(**overrides):
    return device_options.device_options(_params(state="absent", **overrides), task_no_log=False)


ALICE_REMOVAL = [
    intent("alice", serial("alice")),
    ("deactivate_mfa_device", {"UserName": "alice", "SerialNumber": serial("alice")}),
    ("delete_virtual_mfa_device", {"SerialNumber": serial("alice")}),
    ("deactivate_mfa_device", {"UserName": "alice", "SerialNumber": PASSKEY}),
    ("deactivate_mfa_device", {"UserName": "alice", "SerialNumber": VENDOR}),
]


def _stub_alice_devices(stub):
    stub_user_devices(stub, "alice", serial("alice"), PASSKEY, VENDOR)
    stub_virtual(stub, assigned(serial("alice"), "alice"), orphan(serial("test")))
    stub_tags(stub, serial("test"))  # is it a leftover of alice's?


def test_absent_all_devices_of_user_check_mode(iam, stub):
    _stub_alice_devices(stub)
    result = mfa_removal.ensure_absent(iam, _absent(), True, _identity)
    assert result["changed"] is True
    assert [(a["action"], a["target"]) for a in result["actions"]] == [(name, params["SerialNumber"]) for name, params in ALICE_REMOVAL]
    assert [d["type"] for d in result["devices"]] == ["virtual", "passkey", "hardware"]
    assert result["diff"]["after"] == {"devices": [
        {"serial_number": PASSKEY, "type": "passkey", "user_name": None, "assigned": False},
        {"serial_number": VENDOR, "type": "hardware", "user_name": None, "assigned": False},
    ]}
    assert result["warnings"] == []


def test_absent_all_devices_of_user_apply(iam, stub):
    _stub_alice_devices(stub)
    for name, params in ALICE_REMOVAL:
        stub.add_response(name, {}, params)
    assert mfa_removal.ensure_absent(iam, _absent(), False, _identity)["changed"] is True


def test_absent_apply_treats_already_gone_as_done(iam, stub):
    _stub_alice_devices(stub)
    for name, params in ALICE_REMOVAL:
        stub.add_client_error(name, "NoSuchEntity", "gone", 404, expected_params=params)
    mfa_removal.ensure_absent(iam, _absent(), False, _identity)


def test_absent_by_virtual_serial_finds_the_user(iam, stub):
    stub_virtual(stub, assigned(serial("bob"), "bob"))
    for name, params in (intent("bob", serial("bob")), ("deactivate_mfa_device", {"UserName": "bob", "SerialNumber": serial("bob")}),
                         ("delete_virtual_mfa_device", {"SerialNumber": serial("bob")})):
        stub.add_response(name, {}, params)
    result = mfa_removal.ensure_absent(iam, _absent(user_name=None, serial_number=serial("bob")), False, _identity)
    assert [a["action"] for a in result["actions"]] == ["tag_mfa_device", "deactivate_mfa_device", "delete_virtual_mfa_device"]


def test_absent_hardware_serial_with_user_is_deactivated_only(iam, stub):
    stub_virtual(stub, assigned(serial("alice"), "alice"))
    stub_user_devices(stub, "alice", serial("alice"), HARDWARE_ARN)
    stub.add_response("deactivate_mfa_device", {}, {"UserName": "alice", "SerialNumber": HARDWARE_ARN})
    result = mfa_removal.ensure_absent(iam, _absent(serial_number=HARDWARE_ARN), False, _identity)
    assert result["actions"] == [{"action": "deactivate_mfa_device", "target": HARDWARE_ARN}]
    assert result["devices"][0]["type"] == "hardware"


def test_absent_missing_virtual_serial_is_already_absent_and_says_what_it_may_be(iam, stub):
    # Removed by an earlier run, or a hardware token registered with an :mfa/ serial: nothing done, and the warning says both.
    stub_virtual(stub, orphan(serial("test")))
    result = mfa_removal.ensure_absent(iam, _absent(user_name=None, serial_number=serial("gone")), False, _identity)
    assert result["changed"] is False
    assert result["devices"] == []
    assert len(result["warnings"]) == 1
    assert "deleted already" in result["warnings"][0] and "hardware token" in result["warnings"][0] and "user_name" in result["warnings"][0]


@pytest.mark.parametrize("overrides, fragment", [
    ({"user_name": None, "serial_number": PASSKEY}, "found only through its user"),
    ({"user_name": None, "serial_number": VENDOR}, "found only through its user"),
    ({"user_name": "root"}, "iam_root_credentials"),
    ({"user_name": "Root", "serial_number": ROOT_SERIAL}, "iam_root_credentials"),
    ({"user_name": None, "serial_number": "arn:aws:iam::%s:mfa/../bob" % ACCOUNT}, "'..'"),
    ({"user_name": "bob", "serial_number": "arn:aws:iam::12345:mfa/bob"}, "12-digit account"),
    ({"user_name": "bob", "serial_number": "arn:aws:iam:::mfa/bob"}, "12-digit account"),
])
def test_absent_refusals_before_any_call(iam, stub, overrides, fragment):  # pylint: disable=unused-argument
    with pytest.raises(validation.InvalidInput) as refused:
        mfa_removal.ensure_absent(iam, _absent(**overrides), False, _identity)
    assert fragment in refused.value.message and "Nothing was changed" in refused.value.message


def test_absent_serial_of_another_account_is_refused_before_any_iam_call(iam, stub):  # pylint: disable=unused-argument
    other = "arn:aws:iam::210987654321:mfa/bob"
    with pytest.raises(IamGuardError) as refused:
        mfa_removal.ensure_absent(iam, _absent(user_name=None, serial_number=other), False, _identity)
    assert "belongs to account 210987654321" in refused.value.message and "nothing was changed" in refused.value.message


@pytest.mark.parametrize("tags", [{}, pending_tags("carol"), {mfa_tags.TAG_REMOVING_FROM: "carol"}])
def test_absent_unassigned_device_never_the_users_is_refused(iam, stub, tags):
    """Issue 18 #5: user_name bob and the serial (or name) of an unassigned device that was never bob's."""
    for selection in ({"serial_number": serial("phone")}, {"name": "phone"}):
        stub_virtual(stub, orphan(serial("phone")))
        stub_tags(stub, serial("phone"), tags)
        with pytest.raises(IamGuardError) as refused:
            mfa_removal.ensure_absent(iam, _absent(user_name="bob", **selection), False, _identity)
        assert "enabled for nobody and was never bob's" in refused.value.message and "Nothing was changed" in refused.value.message


@pytest.mark.parametrize("name, tags", [("bob", {}), ("phone", pending_tags("bob")), ("phone", {mfa_tags.TAG_REMOVING_FROM: "bob"})])
def test_absent_unassigned_device_of_the_user_is_deleted(iam, stub, name, tags):
    stub_virtual(stub, orphan(serial(name)))
    stub_tags(stub, serial(name), tags)
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial(name)})
    result = mfa_removal.ensure_absent(iam, _absent(user_name="bob", serial_number=serial(name)), False, _identity)
    assert result["actions"] == [{"action": "delete_virtual_mfa_device", "target": serial(name)}]


def test_absent_reset_finishes_a_device_tagged_as_being_removed_from_the_user(iam, stub):
    """A reset stopped after DeactivateMFADevice left 'phone' (not named after dave) unassigned: its tag names dave."""
    stub_user_devices(stub, "dave")
    stub_virtual(stub, orphan(serial("phone")), orphan(serial("other")))
    stub_tags(stub, serial("other"), {mfa_tags.TAG_REMOVING_FROM: "erin"})  # tags are read in serial order
    stub_tags(stub, serial("phone"), {mfa_tags.TAG_REMOVING_FROM: "dave", mfa_tags.TAG_REMOVING_SINCE: SINCE})
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("phone")})
    result = mfa_removal.ensure_absent(iam, _absent(user_name="dave"), False, _identity)
    assert result["actions"] == [{"action": "delete_virtual_mfa_device", "target": serial("phone")}]
    assert result["devices"][0]["removing_from"] == "dave"


def test_absent_intent_tag_on_a_device_gone_meanwhile_counts_as_done(iam, stub):
    stub_virtual(stub, assigned(serial("bob"), "bob"))
    name, params = intent("bob", serial("bob"))
    stub.add_client_error(name, "NoSuchEntity", "gone", 404, expected_params=params)
    stub.add_client_error("deactivate_mfa_device", "NoSuchEntity", "gone", 404, expected_params={"UserName": "bob", "SerialNumber": serial("bob")})
    stub.add_client_error("delete_virtual_mfa_device", "NoSuchEntity", "gone", 404, expected_params={"SerialNumber": serial("bob")})
    mfa_removal.ensure_absent(iam, _absent(user_name=None, serial_number=serial("bob")), False, _identity)


def test_absent_user_reset_removes_devices_deactivated_earlier(iam, stub):
    # bob's device was deactivated by hand (or by a run that stopped before DeleteVirtualMFADevice), and a
    # pending enrolment tagged for him waits under another name: the reset leaves no orphan of his.
    stub_user_devices(stub, "bob", PASSKEY)
    stub_virtual(stub, orphan(serial("bob")), orphan(serial("phone", "/team/")), orphan(serial("test")))
    stub_tags(stub, serial("bob"))
    stub_tags(stub, serial("phone", "/team/"), pending_tags("bob"))
    stub_tags(stub, serial("test"))
    stub.add_response("deactivate_mfa_device", {}, {"UserName": "bob", "SerialNumber": PASSKEY})
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("bob")})
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("phone", "/team/")})
    result = mfa_removal.ensure_absent(iam, _absent(user_name="bob"), False, _identity)
    assert result["actions"] == [
        {"action": "deactivate_mfa_device", "target": PASSKEY},
        {"action": "delete_virtual_mfa_device", "target": serial("bob")},
        {"action": "delete_virtual_mfa_device", "target": serial("phone", "/team/")},
    ]


def test_absent_orphan_by_name_is_deleted_only(iam, stub):
    stub_virtual(stub, orphan(serial("test")))
    stub_tags(stub, serial("test"))
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("test")})
    result = mfa_removal.ensure_absent(iam, _absent(user_name=None, name="test"), False, _identity)
    assert result["actions"] == [{"action": "delete_virtual_mfa_device", "target": serial("test")}]
    assert result["diff"]["after"] == {"devices": []}


def test_absent_missing_name_is_unchanged(iam, stub):
    stub_virtual(stub, orphan(serial("test")))
    result = mfa_removal.ensure_absent(iam, _absent(user_name=None, name="nothere"), False, _identity)
    assert result["changed"] is False
    assert result["devices"] == []


def test_absent_missing_user_warns(iam, stub):
    stub_no_user(stub, "ghost")
    stub_virtual(stub)
    result = mfa_removal.ensure_absent(iam, _absent(user_name="ghost"), False, _identity)
    assert result["changed"] is False
    assert result["warnings"] == ["IAM user ghost does not exist; only virtual devices left over for that name can be removed."]


def test_absent_missing_user_still_removes_its_leftover_device(iam, stub):
    stub_no_user(stub, "ghost")
    stub_virtual(stub, orphan(serial("ghost")))
    stub_tags(stub, serial("ghost"))
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("ghost")})
    assert mfa_removal.ensure_absent(iam, _absent(user_name="ghost"), False, _identity)["actions"] == [
        {"action": "delete_virtual_mfa_device", "target": serial("ghost")}]


def test_absent_root_device_refused(iam, stub):
    stub_virtual(stub, ROOT_RAW)
    with pytest.raises(IamGuardError, match="root user's MFA device"):
        mfa_removal.ensure_absent(iam, _absent(user_name=None, serial_number=ROOT_SERIAL), False, _identity)


def test_absent_device_of_another_user_refused(iam, stub):
    stub_virtual(stub, assigned(serial("bob"), "bob"))
    with pytest.raises(IamGuardError, match="enabled for user bob, not alice; nothing was changed"):
        mfa_removal.ensure_absent(iam, _absent(serial_number=serial("bob")), False, _identity)
