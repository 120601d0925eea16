# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import errno
import os
import stat
import sys
import threading
import time
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils import (
    device_options, devices as mfa_devices, enrolment as mfa_enrolment, files, tags as mfa_tags, validation,
)
from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.plans import mfa as mfa_plans
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action

ACCOUNT = "123456789012"
DATE = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ISO = "2024-01-02T03:04:05+00:00"
# RFC 6238 test secret ("12345678901234567890"); its codes at t=1111111111 and the step before
# are the last six digits of the RFC's published values 14050471 and 07081804.
SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
NOW = 1111111111
CODES = ("081804", "050471")
PNG = b"\x89PNG\r\n\x1a\nfake-qr"
IDENTITY = {"Partition": "aws", "Account": ACCOUNT, "Arn": "arn:aws:iam::%s:user/admin" % ACCOUNT, "UserId": "AIDAADMINADMINADMIN0"}


def serial(name, path="/"):
    return "arn:aws:iam::%s:mfa%s%s" % (ACCOUNT, path, name)


ROOT_SERIAL = serial("root-account-mfa-device")
PASSKEY = "arn:aws:iam::%s:u2f/user/alice/passkey-CRESUIN32BFJPIIGIL2PLPODPM" % ACCOUNT
HARDWARE_ARN = serial("alice-token")
VENDOR = "GAHT12345678"


def user(name):
    arn = "arn:aws:iam::%s:user/%s" % (ACCOUNT, name)
    return {"Path": "/", "UserName": name, "UserId": ("AIDA" + name.upper() + "X" * 16)[:20], "Arn": arn, "CreateDate": DATE}


def assigned(serial_number, name):
    return {"SerialNumber": serial_number, "User": user(name), "EnableDate": DATE}


def orphan(serial_number):
    return {"SerialNumber": serial_number}


ROOT_RAW = {
    "SerialNumber": ROOT_SERIAL,
    "User": {"Path": "/", "UserName": "root", "UserId": ACCOUNT + "0000", "Arn": "arn:aws:iam::%s:root" % ACCOUNT, "CreateDate": DATE},
    "EnableDate": DATE,
}


def stub_virtual(stub, *devices):
    stub.add_response("list_virtual_mfa_devices", {"VirtualMFADevices": list(devices), "IsTruncated": False}, {"AssignmentStatus": "Any", "MaxItems": 1000})


def stub_user_devices(stub, name, *serials):
    devices = [{"UserName": name, "SerialNumber": s, "EnableDate": DATE} for s in serials]
    stub.add_response("list_mfa_devices", {"MFADevices": devices, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})


def stub_tags(stub, serial_number, tags=None):
    listed = [{"Key": key, "Value": value} for key, value in (tags or {}).items()]
    stub.add_response("list_mfa_device_tags", {"Tags": listed, "IsTruncated": False}, {"SerialNumber": serial_number, "MaxItems": 1000})


def pending_tags(user_name="alice", created_at="2005-03-18T01:43:31Z"):
    """The tags step 1 of a two-step enrolment leaves (created 30 minutes before NOW), seed bound."""
    return {mfa_tags.TAG_CREATED_AT: created_at, mfa_tags.TAG_ENROLMENT: mfa_tags.TWO_STEP, mfa_tags.TAG_ENROLMENT_USER: user_name,
            mfa_tags.TAG_SEED_SHA256: mfa_tags.digest(SEED), mfa_tags.TAG_QR_SHA256: mfa_tags.digest(PNG)}


def stub_no_user(stub, name):
    stub.add_client_error("list_mfa_devices", "NoSuchEntity", "The user with name %s cannot be found." % name, 404,
                          expected_params={"UserName": name, "MaxItems": 1000})


def bookkeeping(user_name="alice", kind=mfa_tags.TWO_STEP, created_at="2005-03-18T01:58:31Z"):
    """This collection's creation tags (created at NOW) as a Tags parameter, merged with ``extra`` by the caller."""
    tags = {mfa_tags.TAG_CREATED_AT: created_at, mfa_tags.TAG_ENROLMENT: kind}
    if user_name:
        tags[mfa_tags.TAG_ENROLMENT_USER] = user_name
    return tags


def tag_list(tags):
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def stub_create(stub, name, path="/", tags=None, serial_number=None):
    """CreateVirtualMFADevice with ``tags`` (all of them, bookkeeping included), then the TagMFADevice that binds the seed."""
    created = serial_number or serial(name, path)
    params = {"VirtualMFADeviceName": name, "Path": path, "Tags": tag_list(tags if tags is not None else bookkeeping(name))}
    device = {"SerialNumber": created, "Base32StringSeed": SEED.encode("ascii"), "QRCodePNG": PNG}
    stub.add_response("create_virtual_mfa_device", {"VirtualMFADevice": device}, params)
    binding = [{"Key": mfa_tags.TAG_SEED_SHA256, "Value": mfa_tags.digest(SEED)}, {"Key": mfa_tags.TAG_QR_SHA256, "Value": mfa_tags.digest(PNG)}]
    stub.add_response("tag_mfa_device", {}, {"SerialNumber": created, "Tags": binding})


def stub_enable(stub, name, serial_number, codes=CODES):
    params = {"UserName": name, "SerialNumber": serial_number, "AuthenticationCode1": codes[0], "AuthenticationCode2": codes[1]}
    stub.add_response("enable_mfa_device", {}, params)
    return params


def _mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


@pytest.fixture(name="clock")
def fixture_clock(monkeypatch):
    """time.time() frozen at NOW, so generated codes are the RFC 6238 ones."""
    monkeypatch.setattr(mfa_tags.time, "time", lambda: float(NOW))


# --- typing and describing ------------------------------------------------------------


@pytest.mark.parametrize(
    "serial_number, virtual_serials, expected",
    [
        (serial("alice"), {serial("alice")}, mfa_tags.VIRTUAL),
        (serial("alice"), set(), mfa_tags.HARDWARE),  # an mfa/ ARN proves nothing: console-registered hardware gets one too
        (serial("alice"), {serial("bob")}, mfa_tags.HARDWARE),
        (VENDOR, set(), mfa_tags.HARDWARE),
        (PASSKEY, set(), mfa_tags.PASSKEY),
        (PASSKEY, {serial("alice")}, mfa_tags.PASSKEY),
        (serial("alice"), {serial("alice"): {}}, mfa_tags.VIRTUAL),  # by_serial dicts work as well as sets
    ],
)
def test_device_type(serial_number, virtual_serials, expected):
    assert mfa_devices.device_type(serial_number, virtual_serials) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        (ROOT_RAW, True),
        (orphan(ROOT_SERIAL), True),
        ({"SerialNumber": serial("x"), "User": {"Arn": "arn:aws:iam::%s:root" % ACCOUNT}}, True),
        (assigned(serial("root"), "root"), False),  # an IAM user who happens to be named root
        (assigned(serial("alice"), "alice"), False),
        (orphan(serial("alice")), False),
        (orphan(serial("root-account-mfa-device", "/team/")), False),
        (orphan(serial("xroot-account-mfa-device")), False),
    ],
)
def test_is_root_device(raw, expected):
    assert mfa_devices.is_root_device(raw) is expected


def test_describe_virtual_assigned():
    assert mfa_devices.describe_virtual(assigned(serial("alice"), "alice")) == {
        "serial_number": serial("alice"), "type": "virtual", "user_name": "alice", "enable_date": ISO, "assigned": True, "root": False,
    }


def test_describe_virtual_orphan():
    assert mfa_devices.describe_virtual(orphan(serial("test"))) == {
        "serial_number": serial("test"), "type": "virtual", "user_name": None, "enable_date": None, "assigned": False, "root": False,
    }


def test_describe_virtual_root_hides_user_name():
    described = mfa_devices.describe_virtual(ROOT_RAW)
    assert described["root"] is True
    assert described["assigned"] is True
    assert described["user_name"] is None


def test_describe_user_device():
    raw = {"UserName": "alice", "SerialNumber": PASSKEY, "EnableDate": DATE}
    assert mfa_devices.describe_user_device(raw, "alice", mfa_tags.PASSKEY) == {
        "serial_number": PASSKEY, "type": "passkey", "user_name": "alice", "enable_date": ISO, "assigned": True, "root": False,
    }


# --- the account-wide virtual list ----------------------------------------------------------


def test_virtual_devices_read_once_across_uses(iam, stub):
    stub.add_response(
        "list_virtual_mfa_devices",
        {"VirtualMFADevices": [assigned(serial("alice"), "alice"), ROOT_RAW], "IsTruncated": True, "Marker": "p2"},
        {"AssignmentStatus": "Any", "MaxItems": 1000},
    )
    stub.add_response(
        "list_virtual_mfa_devices",
        {"VirtualMFADevices": [orphan(serial("test")), orphan(serial("alice", "/team/"))], "IsTruncated": False},
        {"AssignmentStatus": "Any", "Marker": "p2", "MaxItems": 1000},
    )
    stub_tags(stub, serial("alice", "/team/"))
    stub_tags(stub, serial("test"))
    virtual = mfa_devices.VirtualDevices(iam)
    assert set(virtual.by_serial) == {serial("alice"), ROOT_SERIAL, serial("test"), serial("alice", "/team/")}
    assert virtual.get(serial("alice"))["user_name"] == "alice"
    assert virtual.get(serial("nobody")) is None
    assert virtual.find_by_name("/", "alice")["serial_number"] == serial("alice")
    assert virtual.find_by_name("/team/", "alice")["serial_number"] == serial("alice", "/team/")
    assert virtual.find_by_name("/", "lice") is None
    assert virtual.find_by_name("/other/", "alice") is None
    assert [d["serial_number"] for d in virtual.described()] == sorted([serial("alice"), ROOT_SERIAL, serial("test"), serial("alice", "/team/")])
    assert [d["serial_number"] for d in virtual.orphans()] == [serial("alice", "/team/"), serial("test")]
    assert [d["serial_number"] for d in virtual.orphans()] == [serial("alice", "/team/"), serial("test")]


def test_orphans_never_include_root_or_assigned(iam, stub):
    stub_virtual(stub, assigned(serial("alice"), "alice"), ROOT_RAW, orphan(serial("zed")))
    stub_tags(stub, serial("zed"))
    assert [d["serial_number"] for d in mfa_devices.VirtualDevices(iam).orphans()] == [serial("zed")]


def test_pending_enrolments_are_reported_apart_from_orphans_with_their_age(iam, stub, clock):  # pylint: disable=unused-argument
    stub_virtual(stub, orphan(serial("alice")), orphan(serial("console")), orphan(serial("unbound")), orphan(serial("svc")))
    stub_tags(stub, serial("alice"), pending_tags())
    stub_tags(stub, serial("console"))
    stub_tags(stub, serial("svc"), dict(pending_tags("svc"), **{mfa_tags.TAG_ENROLMENT: mfa_tags.UNATTENDED}))  # a failed unattended one
    stub_tags(stub, serial("unbound"), bookkeeping("unbound"))  # step 1 stopped before it got the secret: nobody can use it
    virtual = mfa_devices.VirtualDevices(iam)
    pending = virtual.pending_enrolments()
    assert [(d["serial_number"], d["created_at"], d["age_minutes"], d["pending_enrolment"]) for d in pending] == [
        (serial("alice"), "2005-03-18T01:43:31Z", 15, True)]
    assert [(d["serial_number"], d["created_at"], d["age_minutes"]) for d in virtual.orphans()] == [
        (serial("console"), None, None), (serial("svc"), "2005-03-18T01:43:31Z", 15), (serial("unbound"), "2005-03-18T01:58:31Z", 0)]
    assert [d["serial_number"] for d in virtual.unassigned_of("svc")] == [serial("svc")]


def test_enrolment_tags_round_trip_a_user_name_with_a_comma():
    assert mfa_tags.tag_user("a,b@c") == "a:b@c"
    assert mfa_tags.enrolment_user({mfa_tags.TAG_ENROLMENT_USER: "a:b@c"}) == "a,b@c"
    assert mfa_tags.enrolment_user({}) is None


@pytest.mark.parametrize("created_at", ["yesterday", "", None])
def test_enrolment_facts_of_a_bad_time_tag_are_unknown(created_at):
    facts = mfa_tags.enrolment_facts({mfa_tags.TAG_CREATED_AT: created_at} if created_at is not None else {}, now=NOW)
    assert facts == {"created_at": None, "age_minutes": None, "pending_enrolment": False, "removing_from": None}


def test_unassigned_root_device_is_not_an_orphan(iam, stub):
    stub_virtual(stub, orphan(ROOT_SERIAL), orphan(serial("zed")))
    stub_tags(stub, serial("zed"))
    virtual = mfa_devices.VirtualDevices(iam)
    assert [d["serial_number"] for d in virtual.orphans()] == [serial("zed")]
    assert virtual.get(ROOT_SERIAL)["root"] is True


def test_unassigned_of_a_user_is_matched_by_device_name_in_any_case_and_path(iam, stub):
    stub_virtual(stub, assigned(serial("bob"), "bob"), orphan(serial("Bob", "/team/")), orphan(serial("bobby")), orphan(ROOT_SERIAL))
    stub_tags(stub, serial("bobby"))
    stub_tags(stub, serial("Bob", "/team/"))
    virtual = mfa_devices.VirtualDevices(iam)
    assert [d["serial_number"] for d in virtual.unassigned_of("bob")] == [serial("Bob", "/team/")]
    assert virtual.unassigned_of("carol") == []


def test_unassigned_of_a_user_includes_devices_tagged_as_its_enrolment(iam, stub):
    stub_virtual(stub, orphan(serial("phone", "/team/")), orphan(serial("other")))
    stub_tags(stub, serial("other"), pending_tags("carol"))
    stub_tags(stub, serial("phone", "/team/"), pending_tags("Bob:Jr"))
    assert [d["serial_number"] for d in mfa_devices.VirtualDevices(iam).unassigned_of("bob,jr")] == [serial("phone", "/team/")]


def test_virtual_devices_read_error_is_iamguard_error(iam, stub):
    stub.add_client_error("list_virtual_mfa_devices", "AccessDenied", "not authorized to perform: iam:ListVirtualMFADevices", 403,
                          expected_params={"AssignmentStatus": "Any", "MaxItems": 1000})
    with pytest.raises(IamGuardError) as caught:
        mfa_devices.VirtualDevices(iam).orphans()
    assert "ListVirtualMFADevices" in caught.value.message


class _SlowListClient:
    """Answers ListVirtualMFADevices slowly, counting reads, to expose a missing lock."""

    def __init__(self, iam):
        self.reads = 0
        self._count_lock = threading.Lock()
        self.meta = iam.meta  # the API model: the largest page size comes from it

    def can_paginate(self, operation):
        return operation in ("list_virtual_mfa_devices", "list_mfa_device_tags")

    def get_paginator(self, operation):
        return self if operation == "list_virtual_mfa_devices" else _TagPages()

    def paginate(self, **params):
        assert params == {"AssignmentStatus": "Any", "MaxItems": 1000}
        with self._count_lock:
            self.reads += 1
        time.sleep(0.05)
        return [{"VirtualMFADevices": [orphan(serial("test")), assigned(serial("alice"), "alice")]}]


class _TagPages:
    @staticmethod
    def paginate(**params):  # pylint: disable=unused-argument
        return [{"Tags": []}]


def _in_threads(count, work):
    """``work()`` in ``count`` threads started at once; their results, or the first exception one raised."""
    start = threading.Barrier(count)
    results, errors = [], []

    def run():
        start.wait()
        try:
            results.append(work())
        except Exception as e:  # pylint: disable=broad-exception-caught  # reported to the test below
            errors.append(e)

    threads = [threading.Thread(target=run) for dummy in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    if errors:
        raise errors[0]
    return results


def test_virtual_devices_read_once_from_many_threads(iam):
    client = _SlowListClient(iam)
    virtual = mfa_devices.VirtualDevices(client)

    def use():
        virtual.get(serial("alice"))
        virtual.orphans()
        return virtual.by_serial

    seen = _in_threads(8, use)
    assert client.reads == 1
    assert len(seen) == 8
    assert all(found is seen[0] for found in seen)


def test_user_devices_typed(iam, stub):
    stub_user_devices(stub, "alice", serial("alice"), HARDWARE_ARN, PASSKEY, VENDOR)
    stub_virtual(stub, assigned(serial("alice"), "alice"), orphan(serial("test")))  # once: the others were enabled long before it
    devices = mfa_devices.user_devices(iam, "alice", mfa_devices.VirtualDevices(iam))
    assert [(d["serial_number"], d["type"], d["user_name"]) for d in devices] == [
        (serial("alice"), "virtual", "alice"),
        (HARDWARE_ARN, "hardware", "alice"),
        (PASSKEY, "passkey", "alice"),
        (VENDOR, "hardware", "alice"),
    ]


def test_device_enabled_after_the_virtual_read_is_typed_virtual_after_one_reread(iam, stub):
    # The batch read the list before bob's device was enrolled: a miss re-reads it, once per serial.
    virtual = mfa_devices.VirtualDevices(iam)
    stub_virtual(stub, assigned(serial("alice"), "alice"))
    assert virtual.type_of(serial("alice")) == mfa_tags.VIRTUAL
    just_now = datetime.now(timezone.utc)
    listed = [{"UserName": "bob", "SerialNumber": s, "EnableDate": just_now} for s in (serial("bob"), VENDOR)]
    stub.add_response("list_mfa_devices", {"MFADevices": listed, "IsTruncated": False}, {"UserName": "bob", "MaxItems": 1000})
    stub_virtual(stub, assigned(serial("alice"), "alice"), assigned(serial("bob"), "bob"))
    stub_virtual(stub, assigned(serial("alice"), "alice"), assigned(serial("bob"), "bob"))
    assert [d["type"] for d in mfa_devices.user_devices(iam, "bob", virtual)] == [mfa_tags.VIRTUAL, mfa_tags.HARDWARE]
    assert virtual.type_of(VENDOR) == mfa_tags.HARDWARE  # already re-read for this serial: no more calls
    assert virtual.type_of(PASSKEY) == mfa_tags.PASSKEY  # never virtual: no re-read


def test_reread_on_miss_happens_once_from_many_threads(iam):
    client = _SlowListClient(iam)
    virtual = mfa_devices.VirtualDevices(client)
    assert _in_threads(8, lambda: virtual.type_of(VENDOR)) == [mfa_tags.HARDWARE] * 8
    assert client.reads == 2


def test_user_devices_without_devices_skips_the_account_wide_list(iam, stub):
    stub_user_devices(stub, "alice")
    assert mfa_devices.user_devices(iam, "alice", mfa_devices.VirtualDevices(iam)) == []


def test_user_devices_of_missing_user_is_none(iam, stub):
    stub_no_user(stub, "ghost")
    assert mfa_devices.user_devices(iam, "ghost", mfa_devices.VirtualDevices(iam)) is None


# --- removal plans ------------------------------------------------------------------------


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


# --- enrolment plan (pure) -----------------------------------------------------------------


def _request(**overrides):
    request = {
        "user_name": "alice", "name": "alice", "path": "/", "serial": serial("alice"), "tags": None, "codes_given": False,
        "generate_codes": False, "replace_orphan": True, "destinations": [("write_seed", "/secrets/alice.seed")], "return_secret": False,
        "created_at": "2005-03-18T01:58:31Z",
    }
    request.update(overrides)
    return request


ENABLE = Action("enable_mfa_device", serial("alice"), {"UserName": "alice", "SerialNumber": serial("alice")})
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


# --- codes ----------------------------------------------------------------------------


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


# --- Enrolment: apply-time handlers and rollback --------------------------------------------


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


# --- options --------------------------------------------------------------------------------


def _params(**overrides):
    params = {
        "state": "present", "user_name": "alice", "name": None, "path": "/", "serial_number": None, "authentication_code_1": None,
        "authentication_code_2": None, "generate_codes": False, "qr_code_png_path": None, "seed_path": None, "force": False,
        "return_secret": False, "replace_orphan": True, "tags": None,
    }
    params.update(overrides)
    return params


def test_device_options_good():
    params = _params(authentication_code_1="081804", authentication_code_2="050471")
    options = device_options.device_options(params, task_no_log=False)
    assert options["codes"] == CODES
    assert "authentication_code_1" not in options and "authentication_code_2" not in options
    assert params["authentication_code_1"] == "081804"  # the module's params are not changed
    assert options["user_name"] == "alice"


def test_device_options_without_codes():
    assert device_options.device_options(_params(), task_no_log=False)["codes"] is None


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"user_name": "bad name"}, "user_name"),
        ({"name": "bad/name"}, "name"),
        ({"path": "team/"}, "path"),
        ({"state": "absent", "serial_number": "short"}, "serial_number"),
        ({"authentication_code_1": "12345", "authentication_code_2": "123456"}, "authentication_code_1"),
        ({"authentication_code_1": "123456"}, "authentication_code_1/authentication_code_2"),
        ({"serial_number": serial("alice")}, "serial_number"),
        ({"return_secret": True, "seed_path": "/tmp/s"}, "return_secret"),
        ({"user_name": None, "name": "phone", "generate_codes": True, "seed_path": "/tmp/s"}, "generate_codes"),
        # input rules never depend on the account: nowhere to keep the secret is refused even if the user has a device
        ({"generate_codes": True}, "generate_codes"),
        ({"seed_path": "/tmp/same", "qr_code_png_path": "/tmp/same"}, "seed_path"),
        ({"seed_path": "/tmp/a/../same", "qr_code_png_path": "/tmp/same"}, "seed_path"),
        ({"tags": {"iamguard:created-at": "x"}, "seed_path": "/tmp/s"}, "tags"),
        ({"state": "absent", "generate_codes": True}, "generate_codes"),
        ({"state": "absent", "authentication_code_1": "123456", "authentication_code_2": "654321"}, "authentication_code_1"),
        ({"state": "absent", "seed_path": "/tmp/s"}, "seed_path"),
        ({"state": "absent", "qr_code_png_path": "/tmp/q.png"}, "qr_code_png_path"),
        ({"state": "absent", "return_secret": True}, "return_secret"),
        ({"state": "absent", "tags": {"team": "a"}}, "tags"),
        ({"state": "absent", "force": True}, "force"),
    ],
)
def test_device_options_bad(overrides, option):
    with pytest.raises(validation.InvalidInput) as caught:
        device_options.device_options(_params(**overrides), task_no_log=False)
    assert caught.value.option == option
    for key in ("authentication_code_1", "authentication_code_2"):
        if overrides.get(key):
            assert overrides[key] not in caught.value.message


def test_device_options_return_secret_with_no_log():
    assert device_options.device_options(_params(return_secret=True), task_no_log=True)["return_secret"] is True


def test_device_options_absent_allows_serial():
    options = device_options.device_options(_params(state="absent", serial_number=PASSKEY, user_name=None), False)
    assert options["serial_number"] == PASSKEY


@pytest.mark.parametrize("force", [False, True])
def test_device_options_refuse_a_fifo_at_an_output_path(tmp_path, force):
    fifo = tmp_path / "alice.seed"
    os.mkfifo(str(fifo))
    with pytest.raises(IamGuardError, match="seed_path: .* is not a regular file"):
        device_options.device_options(_params(seed_path=str(fifo), force=force), task_no_log=False)


def test_device_options_refuse_a_device_node_at_an_output_path():
    with pytest.raises(IamGuardError, match="qr_code_png_path: /dev/null is not a regular file"):
        device_options.device_options(_params(qr_code_png_path="/dev/null", force=True), task_no_log=False)


def test_device_options_without_pyotp_refuse_generate_codes_before_any_call(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyotp", None)  # import pyotp now raises ImportError
    with pytest.raises(IamGuardError) as caught:
        device_options.device_options(_params(generate_codes=True, seed_path=str(tmp_path / "s")), task_no_log=False)
    assert "Failed to import the required Python library (pyotp)" in caught.value.message
    assert device_options.device_options(_params(seed_path=str(tmp_path / "s")), task_no_log=False)["generate_codes"] is False


# --- ensure_present end to end over Stubber ---------------------------------------------------


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


# --- device_inventory -------------------------------------------------------------------------


def test_inventory_validates_names_before_any_call(iam, stub):  # pylint: disable=unused-argument
    with pytest.raises(validation.InvalidInput) as caught:
        mfa_devices.device_inventory(iam, ["alice", "bad name"], "Any")
    assert caught.value.option == "user_names"


def _stub_inventory(stub):
    stub_virtual(stub, assigned(serial("alice"), "alice"), orphan(serial("dave")), orphan(serial("test")), ROOT_RAW)
    stub_tags(stub, serial("dave"), pending_tags("dave"))
    stub_tags(stub, serial("test"))
    stub_user_devices(stub, "alice", serial("alice"), PASSKEY)
    stub_no_user(stub, "ghost")
    stub_user_devices(stub, "carol")


def test_inventory_reads_the_virtual_list_once(iam, stub, clock):  # pylint: disable=unused-argument
    _stub_inventory(stub)
    result = mfa_devices.device_inventory(iam, ["alice", "ghost", "carol"], "Any")
    assert result["changed"] is False
    assert [d["serial_number"] for d in result["virtual_devices"]] == sorted([serial("alice"), serial("dave"), serial("test"), ROOT_SERIAL])
    assert [d["serial_number"] for d in result["orphans"]] == [serial("test")]
    assert [(d["serial_number"], d["age_minutes"]) for d in result["pending_enrolments"]] == [(serial("dave"), 15)]
    assert [(d["serial_number"], d["type"]) for d in result["users"]["alice"]] == [(serial("alice"), "virtual"), (PASSKEY, "passkey")]
    # A missing user is said to be missing, not reported as a user without MFA.
    assert "ghost" not in result["users"]
    assert result["missing_users"] == ["ghost"]
    assert result["users"]["carol"] == []
    assert result["warnings"] == ["IAM user ghost does not exist."]
    assert result["summary"] == {"virtual": 4, "virtual_assigned": 2, "orphans": 1, "pending_enrolments": 1}


@pytest.mark.parametrize(
    "status, expected",
    [("Assigned", [serial("alice"), ROOT_SERIAL]), ("Unassigned", [serial("test")])],
)
def test_inventory_assignment_filter(iam, stub, status, expected):
    stub_virtual(stub, assigned(serial("alice"), "alice"), orphan(serial("test")), ROOT_RAW)
    stub_tags(stub, serial("test"))
    result = mfa_devices.device_inventory(iam, [], status)
    assert sorted(d["serial_number"] for d in result["virtual_devices"]) == sorted(expected)
    assert result["summary"]["virtual"] == 3
