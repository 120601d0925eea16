# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""devices.py: typing, the virtual-device index read once, user devices, and iam_mfa_device_info's inventory."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import devices as mfa_devices, tags as mfa_tags, validation
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from tests.unit.plugins.module_utils.mfa_stubs import (
    ACCOUNT, DATE, HARDWARE_ARN, ISO, NOW, PASSKEY, ROOT_RAW, ROOT_SERIAL, VENDOR, assigned, bookkeeping, orphan, pending_tags, serial, stub_no_user,
    stub_tags, stub_user_devices, stub_virtual,
)


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
