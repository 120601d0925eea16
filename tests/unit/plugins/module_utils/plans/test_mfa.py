# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plans/mfa.py: the removal plan of a device and the enrolment plan of a virtual device (pure)."""

from __future__ import annotations

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import devices as mfa_devices, tags as mfa_tags
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.plans import mfa as mfa_plans
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action
from tests.unit.plugins.module_utils.mfa_stubs import (
    ENABLE, _request,
    HARDWARE_ARN, ISO, NOW, PASSKEY, ROOT_RAW, ROOT_SERIAL, VENDOR, assigned, bookkeeping, orphan, serial, tag_list,
)


def _device(serial_number, kind, user_name="alice", is_assigned=True, root=False):
    return {"serial_number": serial_number, "type": kind, "user_name": user_name, "enable_date": ISO if is_assigned else None,
            "assigned": is_assigned, "root": root}


def test_removal_virtual_assigned_records_the_intent_first():
    intent = [{"Key": "iamguard:removing-from", "Value": "alice"}, {"Key": "iamguard:removing-since", "Value": "2005-03-18T01:58:31Z"}]
    assert mfa_plans.plan_device_removal(_device(serial("alice"), "virtual"), now=NOW) == [
        Action("tag_mfa_device", serial("alice"), {"SerialNumber": serial("alice"), "Tags": intent}),
        Action("deactivate_mfa_device", serial("alice"), {"UserName": "alice", "SerialNumber": serial("alice")}),
        Action("delete_virtual_mfa_device", serial("alice"), {"SerialNumber": serial("alice")}),
    ]


def test_removal_virtual_unassigned():
    assert mfa_plans.plan_device_removal(_device(serial("test"), "virtual", None, False)) == [
        Action("delete_virtual_mfa_device", serial("test"), {"SerialNumber": serial("test")}),
    ]


@pytest.mark.parametrize("serial_number, kind", [(HARDWARE_ARN, "hardware"), (VENDOR, "hardware"), (PASSKEY, "passkey")])
def test_removal_not_virtual_is_deactivate_only(serial_number, kind):
    assert mfa_plans.plan_device_removal(_device(serial_number, kind)) == [
        Action("deactivate_mfa_device", serial_number, {"UserName": "alice", "SerialNumber": serial_number}),
    ]


@pytest.mark.parametrize("is_assigned", [True, False])
def test_removal_root_is_nothing(is_assigned):
    assert mfa_plans.plan_device_removal(_device(ROOT_SERIAL, "virtual", None, is_assigned, root=True)) == []


def test_devices_removal_keeps_device_order():
    devices = [_device(PASSKEY, "passkey"), _device(serial("alice"), "virtual"), _device(ROOT_SERIAL, "virtual", None, True, True)]
    assert [(a.action, a.target) for a in mfa_plans.plan_devices_removal(devices)] == [
        ("deactivate_mfa_device", PASSKEY),
        ("tag_mfa_device", serial("alice")),
        ("deactivate_mfa_device", serial("alice")),
        ("delete_virtual_mfa_device", serial("alice")),
    ]
    assert mfa_plans.plan_devices_removal([]) == []


def test_device_after():
    virtual = _device(serial("alice"), "virtual")
    passkey = _device(PASSKEY, "passkey")
    root = _device(ROOT_SERIAL, "virtual", None, True, True)
    assert mfa_plans.device_after(virtual, mfa_plans.plan_device_removal(virtual)) is None
    assert mfa_plans.device_after(passkey, mfa_plans.plan_device_removal(passkey)) == dict(passkey, assigned=False, user_name=None, enable_date=None)
    assert mfa_plans.device_after(root, mfa_plans.plan_device_removal(root)) == root


CREATE = Action("create_virtual_mfa_device", serial("alice"), {"VirtualMFADeviceName": "alice", "Path": "/", "Tags": tag_list(bookkeeping())})
CREATE_UNATTENDED = Action("create_virtual_mfa_device", serial("alice"),
                           {"VirtualMFADeviceName": "alice", "Path": "/", "Tags": tag_list(bookkeeping(kind=mfa_tags.UNATTENDED))})
TAG = Action("tag_mfa_device", serial("alice"), {"SerialNumber": serial("alice")})
DELETE = Action("delete_virtual_mfa_device", serial("alice"), {"SerialNumber": serial("alice")})
WRITE_SEED = Action("write_seed", "/secrets/alice.seed")
WRITE_QR = Action("write_qr_code_png", "/secrets/alice.png")
ORPHAN = mfa_devices.describe_virtual(orphan(serial("alice")))
ENABLED_FOR_ALICE = mfa_devices.describe_virtual(assigned(serial("alice"), "alice"))
ENABLED_FOR_BOB = mfa_devices.describe_virtual(assigned(serial("alice"), "bob"))


@pytest.mark.parametrize("overrides", [{}, {"generate_codes": True}, {"codes_given": True}, {"user_name": None}])
def test_enrolment_already_enabled_for_this_user_is_nothing(overrides):
    assert mfa_plans.plan_enrolment(_request(**overrides), ENABLED_FOR_ALICE, secret_on_hand=False) == []


def test_enrolment_enabled_for_another_user_is_refused():
    with pytest.raises(IamGuardError) as caught:
        mfa_plans.plan_enrolment(_request(), ENABLED_FOR_BOB, secret_on_hand=False)
    assert "already enabled for user bob, not alice" in caught.value.message
    assert serial("alice") in caught.value.message


def test_enrolment_root_device_is_refused():
    with pytest.raises(IamGuardError, match="root user's MFA device"):
        mfa_plans.plan_enrolment(_request(name="root-account-mfa-device"), mfa_devices.describe_virtual(ROOT_RAW), secret_on_hand=False)


@pytest.mark.parametrize("secret_on_hand", [False, True])
def test_enrolment_codes_enable_the_existing_device_only(secret_on_hand):
    assert mfa_plans.plan_enrolment(_request(codes_given=True), ORPHAN, secret_on_hand) == [ENABLE]


def test_enrolment_codes_without_user_are_refused():
    with pytest.raises(IamGuardError, match="no user_name"):
        mfa_plans.plan_enrolment(_request(codes_given=True, user_name=None), ORPHAN, secret_on_hand=False)


def test_enrolment_codes_without_device_are_refused():
    with pytest.raises(IamGuardError) as caught:
        mfa_plans.plan_enrolment(_request(codes_given=True), None, secret_on_hand=False)
    assert "no virtual MFA device /alice exists yet" in caught.value.message
    assert "run once without codes" in caught.value.message


def test_enrolment_rerun_of_step_one_with_secret_on_hand_is_nothing():
    assert mfa_plans.plan_enrolment(_request(), ORPHAN, secret_on_hand=True) == []


def test_enrolment_orphan_replaced_with_generated_codes():
    request = _request(generate_codes=True, destinations=[("write_qr_code_png", "/secrets/alice.png"), ("write_seed", "/secrets/alice.seed")])
    assert mfa_plans.plan_enrolment(request, ORPHAN, secret_on_hand=False) == [DELETE, CREATE_UNATTENDED, TAG, WRITE_QR, WRITE_SEED, ENABLE]


def test_enrolment_orphan_replaced_when_generating_even_with_secret_on_hand():
    assert mfa_plans.plan_enrolment(_request(generate_codes=True), ORPHAN, secret_on_hand=True) == [DELETE, CREATE_UNATTENDED, TAG, WRITE_SEED, ENABLE]


def test_enrolment_orphan_replaced_without_codes_leaves_it_unassigned():
    assert mfa_plans.plan_enrolment(_request(), ORPHAN, secret_on_hand=False) == [DELETE, CREATE, TAG, WRITE_SEED]


def test_enrolment_orphan_without_replace_is_refused():
    with pytest.raises(IamGuardError) as caught:
        mfa_plans.plan_enrolment(_request(replace_orphan=False), ORPHAN, secret_on_hand=False)
    assert "replace_orphan=true" in caught.value.message
    assert serial("alice") in caught.value.message


@pytest.mark.parametrize("existing", [None, ORPHAN])
def test_enrolment_without_destination_is_refused(existing):
    with pytest.raises(IamGuardError) as caught:
        mfa_plans.plan_enrolment(_request(destinations=[]), existing, secret_on_hand=False)
    assert "qr_code_png_path" in caught.value.message
    assert "seed_path" in caught.value.message
    assert "return_secret" in caught.value.message


def test_enrolment_new_device_returning_secret():
    assert mfa_plans.plan_enrolment(_request(destinations=[], return_secret=True), None, secret_on_hand=False) == [CREATE, TAG]


def test_enrolment_new_device_with_tags_path_and_codes():
    request = _request(name="phone", path="/team/", serial=serial("phone", "/team/"), tags={"z": "1", "a": "2"}, generate_codes=True)
    assert mfa_plans.plan_enrolment(request, None, secret_on_hand=False) == [
        Action("create_virtual_mfa_device", serial("phone", "/team/"),
               {"VirtualMFADeviceName": "phone", "Path": "/team/", "Tags": tag_list(dict(bookkeeping(kind=mfa_tags.UNATTENDED), a="2", z="1"))}),
        Action("tag_mfa_device", serial("phone", "/team/"), {"SerialNumber": serial("phone", "/team/")}),
        WRITE_SEED,
        Action("enable_mfa_device", serial("phone", "/team/"), {"UserName": "alice", "SerialNumber": serial("phone", "/team/")}),
    ]


def test_enrolment_tags_name_the_user_with_its_comma_made_a_colon():
    request = _request(user_name="a,b", name="a,b", serial=serial("a,b"))
    tags = dict((tag["Key"], tag["Value"]) for tag in mfa_plans.plan_enrolment(request, None, secret_on_hand=False)[0].params["Tags"])
    assert tags[mfa_tags.TAG_ENROLMENT_USER] == "a:b"


def test_enrolment_plan_never_holds_a_secret():
    request = _request(generate_codes=True, destinations=[("write_qr_code_png", "/s/q.png"), ("write_seed", "/s/s.txt")], return_secret=True)
    for action in mfa_plans.plan_enrolment(request, ORPHAN, secret_on_hand=False):
        assert not {"AuthenticationCode1", "AuthenticationCode2", "Base32StringSeed", "QRCodePNG"} & set(action.params)
