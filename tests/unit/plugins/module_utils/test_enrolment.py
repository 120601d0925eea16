# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""enrolment.py: the Enrolment executor (secret binding, files, rollback) and the state=present flow."""

from __future__ import annotations

import base64
import errno
import os

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils import device_options, enrolment as mfa_enrolment, files, tags as mfa_tags
from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.plans import mfa as mfa_plans
from tests.unit.plugins.module_utils.mfa_stubs import (
    ENABLE, _request,
    CODES, DATE, IDENTITY, ISO, NOW, PNG, ROOT_RAW, SEED, _mode, _params, assigned, bookkeeping, orphan, pending_tags, serial, stub_create,
    stub_enable, stub_no_user, stub_tags, stub_user_devices, stub_virtual, tag_list,
)


def test_consecutive_codes_are_rfc6238_codes_of_steps_t_minus_1_and_t():
    assert mfa_enrolment.consecutive_codes(SEED, now=NOW) == CODES


def test_consecutive_codes_default_to_now(clock):  # pylint: disable=unused-argument
    assert mfa_enrolment.consecutive_codes(SEED) == CODES


def test_consecutive_codes_step_boundary():
    # 59 s is the last second of step 1; its codes are those of steps 0 and 1.
    first, second = mfa_enrolment.consecutive_codes(SEED, now=59)
    assert second == "287082"
    assert (first, second) == mfa_enrolment.consecutive_codes(SEED, now=30)
    assert mfa_enrolment.consecutive_codes(SEED, now=60)[0] == second


API_MODEL = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta  # largest page sizes


class _FakeIam:
    """Records calls; answers create with a device, fails the operations named in ``fail``.

    ``enabled`` maps a user name to the serials ListMFADevices answers for it. With
    ``enable_takes_effect`` a failing EnableMFADevice still enables the device (its answer was lost).
    """

    def __init__(self, fail=None, enabled=None, enable_takes_effect=False):
        self.calls = []
        self.fail = fail or {}
        self.enabled = enabled or {}
        self.enable_takes_effect = enable_takes_effect
        self.meta = API_MODEL

    @staticmethod
    def can_paginate(operation):  # pylint: disable=unused-argument
        return False

    def __getattr__(self, operation):
        def method(**params):
            self.calls.append((operation, params))
            if operation == "enable_mfa_device" and self.enable_takes_effect:
                self.enabled.setdefault(params["UserName"], []).append(params["SerialNumber"])
            if operation in self.fail:
                raise self.fail[operation]
            if operation == "create_virtual_mfa_device":
                created = serial(params["VirtualMFADeviceName"], params["Path"])
                return {"VirtualMFADevice": {"SerialNumber": created, "Base32StringSeed": SEED.encode("ascii"), "QRCodePNG": PNG}}
            if operation == "list_mfa_devices":
                return {"MFADevices": [{"UserName": params["UserName"], "SerialNumber": s, "EnableDate": DATE}
                                       for s in self.enabled.get(params["UserName"], [])]}
            return {}

        return method

    def operations(self):
        return [operation for operation, dummy in self.calls]


def _new_device_plan(tmp_path, generate_codes=True):
    destinations = [("write_qr_code_png", str(tmp_path / "alice.png")), ("write_seed", str(tmp_path / "alice.seed"))]
    return mfa_plans.plan_enrolment(_request(generate_codes=generate_codes, destinations=destinations), None, secret_on_hand=False)


def test_enrolment_handlers_cover_local_steps():
    assert set(mfa_enrolment.Enrolment(files.write_private_file).handlers) == {
        "create_virtual_mfa_device", "tag_mfa_device", "write_qr_code_png", "write_seed", "enable_mfa_device"}


ENABLE_CALL = ("enable_mfa_device", {"UserName": "alice", "SerialNumber": serial("alice"), "AuthenticationCode1": CODES[0],
                                     "AuthenticationCode2": CODES[1]})


def test_enrolment_creates_binds_writes_and_enables(tmp_path, clock):  # pylint: disable=unused-argument
    client = _FakeIam()
    enrolment = mfa_enrolment.Enrolment(files.write_private_file)
    apply(client, _new_device_plan(tmp_path), enrolment.handlers)
    assert client.calls == [
        ("create_virtual_mfa_device", {"VirtualMFADeviceName": "alice", "Path": "/", "Tags": tag_list(bookkeeping(kind=mfa_tags.UNATTENDED))}),
        ("tag_mfa_device", {"SerialNumber": serial("alice"), "Tags": [{"Key": mfa_tags.TAG_SEED_SHA256, "Value": mfa_tags.digest(SEED)},
                                                                      {"Key": mfa_tags.TAG_QR_SHA256, "Value": mfa_tags.digest(PNG)}]}),
        ENABLE_CALL,
    ]
    assert (tmp_path / "alice.png").read_bytes() == PNG
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"
    assert _mode(tmp_path / "alice.png") == 0o600
    assert enrolment.written == [str(tmp_path / "alice.png"), str(tmp_path / "alice.seed")]
    assert enrolment.secret() == {"base32_string_seed": SEED, "qr_code_png": base64.b64encode(PNG).decode("ascii")}


def test_enrolment_secret_is_none_before_create():
    assert mfa_enrolment.Enrolment(files.write_private_file).secret() is None


def test_enrolment_rollback_after_failed_enable(tmp_path, clock, client_error):  # pylint: disable=unused-argument
    client = _FakeIam(fail={"enable_mfa_device": client_error("InvalidAuthenticationCode", "Authentication code for device is not valid.")})
    enrolment = mfa_enrolment.Enrolment(files.write_private_file)
    with pytest.raises(IamGuardError) as caught:
        apply(client, _new_device_plan(tmp_path), enrolment.handlers)
    # Generated codes: the message stays IAM's, not the "your codes" advice.
    assert "rejected the two codes" not in caught.value.message
    assert "InvalidAuthenticationCode" in caught.value.message
    assert "deleted again" in enrolment.rollback(client)
    # Not enabled after all (ListMFADevices says so): the device goes, then its files.
    assert client.operations() == ["create_virtual_mfa_device", "tag_mfa_device", "enable_mfa_device", "list_mfa_devices",
                                   "delete_virtual_mfa_device"]
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("code", ["EntityAlreadyExists", "LimitExceeded"])
def test_enrolment_lost_enable_answer_with_the_device_enabled_is_success(tmp_path, clock, client_error, code):  # pylint: disable=unused-argument
    # IAM enabled the device but the answer was lost: the retry meets EntityAlreadyExists, or another error once retries ran out.
    client = _FakeIam(fail={"enable_mfa_device": client_error(code, "lost")}, enable_takes_effect=True)
    enrolment = mfa_enrolment.Enrolment(files.write_private_file)
    apply(client, _new_device_plan(tmp_path), enrolment.handlers)
    assert client.operations()[-2:] == ["enable_mfa_device", "list_mfa_devices"]
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"
    assert "delete_virtual_mfa_device" not in client.operations()


def test_enrolment_lost_enable_answer_on_an_unexpected_exception_is_success(tmp_path, clock):  # pylint: disable=unused-argument
    client = _FakeIam(fail={"enable_mfa_device": ConnectionResetError("reset after the server acted")}, enable_takes_effect=True)
    enrolment = mfa_enrolment.Enrolment(files.write_private_file)
    apply(client, _new_device_plan(tmp_path), enrolment.handlers)
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"


def test_enrolment_device_that_may_be_live_keeps_device_and_secret(tmp_path, clock, client_error):  # pylint: disable=unused-argument
    # The enable failed and the check cannot be read: the device may be enabled, so nothing is rolled back.
    client = _FakeIam(fail={"enable_mfa_device": ConnectionResetError("lost"), "list_mfa_devices": client_error("AccessDenied", "denied")})
    enrolment = mfa_enrolment.Enrolment(files.write_private_file)
    with pytest.raises(ConnectionResetError):
        apply(client, _new_device_plan(tmp_path), enrolment.handlers)
    note = enrolment.rollback(client)
    assert "kept" in note and serial("alice") in note
    assert "delete_virtual_mfa_device" not in client.operations()
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"
    assert (tmp_path / "alice.png").read_bytes() == PNG


def test_enrolment_rollback_keeps_the_secret_when_the_device_cannot_be_deleted(tmp_path, client_error):
    client = _FakeIam(fail={"delete_virtual_mfa_device": client_error("DeleteConflict", "MFA device is in use. Deactivate it first.")})
    enrolment = mfa_enrolment.Enrolment(files.write_private_file)
    apply(client, _new_device_plan(tmp_path, generate_codes=False), enrolment.handlers)
    with pytest.raises(IamGuardError, match="DeleteConflict"):
        enrolment.rollback(client)
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"


def test_enrolment_rollback_tolerates_device_already_gone(tmp_path, client_error):
    client = _FakeIam(fail={"delete_virtual_mfa_device": client_error("NoSuchEntity", "gone")})
    enrolment = mfa_enrolment.Enrolment(files.write_private_file)
    apply(client, _new_device_plan(tmp_path, generate_codes=False), enrolment.handlers)
    assert serial("alice") in enrolment.rollback(client)
    assert os.listdir(str(tmp_path)) == []


def test_enrolment_rollback_without_create_touches_nothing():
    client = _FakeIam()
    assert mfa_enrolment.Enrolment(files.write_private_file).rollback(client) == ""
    assert client.calls == []


def test_enrolment_wrong_user_codes_get_clear_message(client_error):
    rejected = client_error("InvalidAuthenticationCode", "Authentication code for device is not valid.")
    client = _FakeIam(fail={"enable_mfa_device": rejected})
    enrolment = mfa_enrolment.Enrolment(files.write_private_file, codes=("111111", "222222"))
    with pytest.raises(IamGuardError) as caught:
        apply(client, [ENABLE], enrolment.handlers)
    message = caught.value.message
    assert "IAM rejected the two codes for virtual MFA device %s (user alice)" % serial("alice") in message
    assert "consecutive" in message
    assert "111111" not in message and "222222" not in message
    assert caught.value.exception is rejected
    assert client.calls == [("enable_mfa_device", {"UserName": "alice", "SerialNumber": serial("alice"), "AuthenticationCode1": "111111",
                                                   "AuthenticationCode2": "222222"}),
                            ("list_mfa_devices", {"UserName": "alice", "MaxItems": 1000})]
    assert enrolment.rollback(client) == ""
    assert len(client.calls) == 2


def test_enrolment_user_codes_other_error_is_not_blamed_on_codes(client_error):
    client = _FakeIam(fail={"enable_mfa_device": client_error("AccessDenied", "not authorized to perform: iam:EnableMFADevice")})
    enrolment = mfa_enrolment.Enrolment(files.write_private_file, codes=("111111", "222222"))
    with pytest.raises(IamGuardError) as caught:
        apply(client, [ENABLE], enrolment.handlers)
    assert "rejected the two codes" not in caught.value.message
    assert "AccessDenied" in caught.value.message


def _identity_once():
    calls = []

    def identity():
        calls.append(1)
        return IDENTITY

    return identity, calls


def _no_identity():
    raise AssertionError("caller_identity must not be called when the device exists")


def _present(tmp_path, no_log=False, **overrides):
    params = {"qr_code_png_path": str(tmp_path / "alice.png"), "seed_path": str(tmp_path / "alice.seed")}
    params.update(overrides)
    return device_options.device_options(_params(**params), task_no_log=no_log)


def test_present_new_device_check_mode_makes_no_change(iam, stub, tmp_path, clock):  # pylint: disable=unused-argument
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    identity, calls = _identity_once()
    result = mfa_enrolment.ensure_present(iam, _present(tmp_path, generate_codes=True), True, identity)
    assert calls == [1]
    assert result["changed"] is True
    assert result["actions"] == [
        {"action": "create_virtual_mfa_device", "target": serial("alice")},
        {"action": "tag_mfa_device", "target": serial("alice")},
        {"action": "write_qr_code_png", "target": str(tmp_path / "alice.png")},
        {"action": "write_seed", "target": str(tmp_path / "alice.seed")},
        {"action": "enable_mfa_device", "target": serial("alice")},
    ]
    assert result["replaced_orphan"] is False
    assert result["device"] == {"serial_number": serial("alice"), "type": "virtual", "user_name": "alice", "enable_date": None, "assigned": True, "root": False}
    assert result["diff"] == {"before": {}, "after": {"serial_number": serial("alice"), "type": "virtual", "user_name": "alice", "assigned": True}}
    assert "secret" not in result
    assert os.listdir(str(tmp_path)) == []


def test_present_new_device_apply_generates_codes(iam, stub, tmp_path, clock):  # pylint: disable=unused-argument
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    stub_create(stub, "alice", tags=bookkeeping(kind=mfa_tags.UNATTENDED))
    stub_enable(stub, "alice", serial("alice"))
    stub_user_devices(stub, "alice", serial("alice"))
    result = mfa_enrolment.ensure_present(iam, _present(tmp_path, generate_codes=True), False, lambda: IDENTITY)
    assert result["changed"] is True
    assert result["device"]["assigned"] is True
    assert result["device"]["enable_date"] == ISO
    assert (tmp_path / "alice.png").read_bytes() == PNG
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"
    assert _mode(tmp_path / "alice.png") == 0o600 and _mode(tmp_path / "alice.seed") == 0o600
    assert "secret" not in result


def test_present_step_one_creates_and_returns_secret(iam, stub, clock):  # pylint: disable=unused-argument
    stub_user_devices(stub, "bob")
    stub_virtual(stub, orphan(serial("other")))
    stub_create(stub, "phone", "/team/", tags=dict(bookkeeping("bob"), a="2", z="1"))
    options = device_options.device_options(
        _params(user_name="bob", name="phone", path="/team/", tags={"z": "1", "a": "2"}, return_secret=True), task_no_log=True)
    result = mfa_enrolment.ensure_present(iam, options, False, lambda: IDENTITY)
    assert result["actions"] == [{"action": "create_virtual_mfa_device", "target": serial("phone", "/team/")},
                                 {"action": "tag_mfa_device", "target": serial("phone", "/team/")}]
    assert result["device"]["assigned"] is False
    assert result["device"]["user_name"] is None
    assert result["secret"] == {"base32_string_seed": SEED, "qr_code_png": base64.b64encode(PNG).decode("ascii")}


def test_present_orphan_replaced_check_mode(iam, stub, tmp_path):
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"))
    result = mfa_enrolment.ensure_present(iam, _present(tmp_path, seed_path=None), True, _no_identity)
    assert result["replaced_orphan"] is True
    assert [a["action"] for a in result["actions"]] == ["delete_virtual_mfa_device", "create_virtual_mfa_device", "tag_mfa_device",
                                                        "write_qr_code_png"]
    assert result["diff"]["before"] == {"serial_number": serial("alice"), "type": "virtual", "user_name": None, "assigned": False}
    assert os.listdir(str(tmp_path)) == []


def test_present_orphan_replaced_apply(iam, stub, tmp_path, clock):  # pylint: disable=unused-argument
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"))
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("alice")})
    stub_create(stub, "alice")
    result = mfa_enrolment.ensure_present(iam, _present(tmp_path, seed_path=None), False, _no_identity)
    assert result["changed"] is True
    assert (tmp_path / "alice.png").read_bytes() == PNG
    assert not (tmp_path / "alice.seed").exists()


def test_present_orphan_without_replace_is_refused(iam, stub, tmp_path):
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"))
    with pytest.raises(IamGuardError, match="replace_orphan=true"):
        mfa_enrolment.ensure_present(iam, _present(tmp_path, replace_orphan=False), False, _no_identity)


def test_present_rerun_of_step_one_changes_nothing(iam, stub, tmp_path):
    (tmp_path / "alice.seed").write_text(SEED + "\n")
    (tmp_path / "alice.png").write_bytes(PNG)
    for force in (False, True):  # force replaces a stale secret, never the device's own one
        stub_user_devices(stub, "alice")
        stub_virtual(stub, orphan(serial("alice")))
        stub_tags(stub, serial("alice"), pending_tags())
        result = mfa_enrolment.ensure_present(iam, _present(tmp_path, force=force), False, _no_identity)
        assert result["changed"] is False
        assert result["actions"] == []
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"


STALE_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.mark.parametrize("tags", [pending_tags(), {}], ids=["device-created-again", "device-not-ours"])
def test_present_stale_secret_file_is_refused_without_force(iam, stub, tmp_path, tags):
    # The file holds the seed of an earlier device of that name: handing it out gives codes IAM never accepts.
    (tmp_path / "alice.seed").write_text(STALE_SEED + "\n")
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"), tags)
    with pytest.raises(IamGuardError) as caught:
        mfa_enrolment.ensure_present(iam, _present(tmp_path, qr_code_png_path=None), False, _no_identity)
    assert str(tmp_path / "alice.seed") in caught.value.message and "force=true" in caught.value.message
    assert (tmp_path / "alice.seed").read_text() == STALE_SEED + "\n"


def test_present_stale_secret_file_with_force_replaces_device_and_file(iam, stub, tmp_path, clock):  # pylint: disable=unused-argument
    (tmp_path / "alice.seed").write_text(STALE_SEED + "\n")
    (tmp_path / "alice.png").write_bytes(PNG)  # the QR code matches, the seed does not: the pair is not the device's
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"), pending_tags())
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("alice")})
    stub_create(stub, "alice")
    result = mfa_enrolment.ensure_present(iam, _present(tmp_path, force=True), False, _no_identity)
    assert result["replaced_orphan"] is True
    assert [a["action"] for a in result["actions"]] == [
        "delete_virtual_mfa_device", "create_virtual_mfa_device", "tag_mfa_device", "write_qr_code_png", "write_seed"]
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"


def test_present_step_two_enables_with_given_codes(iam, stub, tmp_path):
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"), pending_tags())
    stub_enable(stub, "alice", serial("alice"), ("111111", "222222"))
    stub_user_devices(stub, "alice", serial("alice"))
    options = _present(tmp_path, authentication_code_1="111111", authentication_code_2="222222")
    result = mfa_enrolment.ensure_present(iam, options, False, _no_identity)
    assert result["actions"] == [{"action": "enable_mfa_device", "target": serial("alice")}]
    assert result["replaced_orphan"] is False
    assert result["device"]["assigned"] is True
    assert result["device"]["user_name"] == "alice"
    assert result["device"]["enable_date"] == ISO
    assert os.listdir(str(tmp_path)) == []


def test_present_step_two_check_mode(iam, stub, tmp_path):
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"))
    options = _present(tmp_path, authentication_code_1="111111", authentication_code_2="222222")
    result = mfa_enrolment.ensure_present(iam, options, True, _no_identity)
    assert result["changed"] is True
    assert result["diff"]["after"] == {"serial_number": serial("alice"), "type": "virtual", "user_name": "alice", "assigned": True}


def test_present_wrong_codes_leave_the_device(iam, stub, tmp_path):
    stub_user_devices(stub, "alice")
    stub_virtual(stub, orphan(serial("alice")))
    stub_tags(stub, serial("alice"), pending_tags())
    stub.add_client_error(
        "enable_mfa_device", "InvalidAuthenticationCode", "Authentication code for device is not valid.", 400,
        expected_params={"UserName": "alice", "SerialNumber": serial("alice"), "AuthenticationCode1": "111111", "AuthenticationCode2": "222222"},
    )
    stub_user_devices(stub, "alice")
    options = _present(tmp_path, authentication_code_1="111111", authentication_code_2="222222")
    with pytest.raises(IamGuardError) as caught:
        mfa_enrolment.ensure_present(iam, options, False, _no_identity)
    assert "IAM rejected the two codes for virtual MFA device %s (user alice)" % serial("alice") in caught.value.message
    assert "deleted again" not in caught.value.message
    assert isinstance(caught.value.exception, ClientError)


def test_present_failed_enable_rolls_back(iam, stub, tmp_path, clock):  # pylint: disable=unused-argument
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    stub_create(stub, "alice", tags=bookkeeping(kind=mfa_tags.UNATTENDED))
    stub.add_client_error(
        "enable_mfa_device", "InvalidAuthenticationCode", "Authentication code for device is not valid.", 400,
        expected_params={"UserName": "alice", "SerialNumber": serial("alice"), "AuthenticationCode1": CODES[0], "AuthenticationCode2": CODES[1]},
    )
    stub_user_devices(stub, "alice")
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("alice")})
    with pytest.raises(IamGuardError) as caught:
        mfa_enrolment.ensure_present(iam, _present(tmp_path, generate_codes=True), False, lambda: IDENTITY)
    assert "The device %s created by this run was deleted again" % serial("alice") in caught.value.message
    assert isinstance(caught.value.exception, ClientError)
    assert os.listdir(str(tmp_path)) == []


def test_present_lost_enable_answer_is_success_and_keeps_the_secret(iam, stub, tmp_path, clock):  # pylint: disable=unused-argument
    # IAM enabled the device, the answer was lost, the retry met EntityAlreadyExists: the device is this user's, so all is done.
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    stub_create(stub, "alice", tags=bookkeeping(kind=mfa_tags.UNATTENDED))
    stub.add_client_error("enable_mfa_device", "EntityAlreadyExists", "MFA device is already in use.", 409)
    stub_user_devices(stub, "alice", serial("alice"))  # the check: enabled for alice
    stub_user_devices(stub, "alice", serial("alice"))  # its enable date, for the result
    result = mfa_enrolment.ensure_present(iam, _present(tmp_path, generate_codes=True), False, lambda: IDENTITY)
    assert result["changed"] is True
    assert result["device"]["assigned"] is True and result["device"]["enable_date"] == ISO
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"
    assert (tmp_path / "alice.png").read_bytes() == PNG


def test_present_enable_of_unknown_outcome_keeps_device_and_secret(iam, stub, tmp_path, clock):  # pylint: disable=unused-argument
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    stub_create(stub, "alice", tags=bookkeeping(kind=mfa_tags.UNATTENDED))
    stub.add_client_error("enable_mfa_device", "EntityAlreadyExists", "MFA device is already in use.", 409)
    stub.add_client_error("list_mfa_devices", "AccessDenied", "not authorized to perform: iam:ListMFADevices", 403)
    with pytest.raises(IamGuardError) as caught:
        mfa_enrolment.ensure_present(iam, _present(tmp_path, generate_codes=True), False, lambda: IDENTITY)
    assert "could not be read back, so the device and its secret files were kept" in caught.value.message
    assert (tmp_path / "alice.seed").read_text() == SEED + "\n"


def test_present_unexpected_exception_rolls_back(iam, stub, tmp_path, monkeypatch, clock):  # pylint: disable=unused-argument
    # Not an IamGuardError (a bug, a library error): the new device must not be left behind as an orphan either.
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    stub_create(stub, "alice")
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("alice")})

    def broken_writer(*args):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(mfa_enrolment, "write_private_file", broken_writer)
    with pytest.raises(IamGuardError) as caught:
        mfa_enrolment.ensure_present(iam, _present(tmp_path), False, lambda: IDENTITY)
    assert "unexpected error (RuntimeError: unexpected)" in caught.value.message
    assert "The device %s created by this run was deleted again" % serial("alice") in caught.value.message


def test_present_failed_secret_write_rolls_back(iam, tmp_path, monkeypatch, clock):  # pylint: disable=unused-argument
    # A failed write (disk full) deletes the new device, so no orphan is left (S1).
    stub = Stubber(iam)
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    stub_create(stub, "alice")
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": serial("alice")})

    def disk_full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with stub:
        with pytest.raises(IamGuardError, match="No space left on device"):
            mfa_enrolment.ensure_present(iam, _present(tmp_path), False, lambda: IDENTITY)
    monkeypatch.undo()
    assert os.listdir(str(tmp_path)) == []
    stub.assert_no_pending_responses()


def test_present_user_missing(iam, stub, tmp_path):
    stub_no_user(stub, "ghost")
    with pytest.raises(IamGuardError, match="IAM user ghost does not exist"):
        mfa_enrolment.ensure_present(iam, _present(tmp_path, user_name="ghost"), False, _no_identity)


def test_present_already_enabled_is_unchanged(iam, stub, tmp_path):
    stub_user_devices(stub, "alice", serial("alice"))
    stub_virtual(stub, assigned(serial("alice"), "alice"))
    result = mfa_enrolment.ensure_present(iam, _present(tmp_path, generate_codes=True), False, _no_identity)
    assert result["changed"] is False
    assert result["actions"] == []
    assert result["device"]["enable_date"] == ISO
    assert result["diff"]["before"] == result["diff"]["after"]


def test_present_enabled_for_another_user_is_refused(iam, stub, tmp_path):
    stub_user_devices(stub, "alice")
    stub_virtual(stub, assigned(serial("alice"), "bob"))
    with pytest.raises(IamGuardError, match="already enabled for user bob, not alice"):
        mfa_enrolment.ensure_present(iam, _present(tmp_path), True, _no_identity)


def test_present_existing_destination_without_force_refused_before_any_change(iam, stub, tmp_path):
    (tmp_path / "alice.seed").write_text("an older seed\n")
    stub_user_devices(stub, "alice")
    stub_virtual(stub)
    with pytest.raises(IamGuardError, match="already exists; set force=true"):
        mfa_enrolment.ensure_present(iam, _present(tmp_path, qr_code_png_path=None), False, lambda: IDENTITY)
    assert (tmp_path / "alice.seed").read_text() == "an older seed\n"


def test_present_root_device_by_name_refused(iam, stub, tmp_path):
    stub_virtual(stub, ROOT_RAW)
    with pytest.raises(IamGuardError, match="root user's MFA device"):
        mfa_enrolment.ensure_present(iam, _present(tmp_path, user_name=None, name="root-account-mfa-device"), True, _no_identity)
