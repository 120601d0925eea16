"""Races staged on purpose (races.py): another actor's change right after the nth answer to an action, and failures on demand."""

import json
import urllib.request

import pytest

from tests.simulator import seed
from tests.simulator_tests.helpers import aws_error

ACCOUNT = "123456789012"


def serial(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:mfa{path}{name}"


def assigned(iam, name):
    pages = iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned")
    return {d["SerialNumber"]: d["User"].get("UserName") for page in pages for d in page["VirtualMFADevices"]}.get(serial(name))


def test_enable_right_after_the_nth_answer_and_not_before(sim, iam):
    seed.make_orphan(iam, "phone")
    iam.create_user(UserName="ada")
    sim.race(after={"action": "ListVirtualMFADevices", "nth": 2, "do": {"enable": serial("phone"), "user": "ada"}})
    for dummy in range(2):
        assert iam.list_mfa_devices(UserName="ada")["MFADevices"] == []
        listed = {d["SerialNumber"]: d.get("User") for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]}
        assert listed[serial("phone")] is None  # each answer is from before the event
    assert iam.list_mfa_devices(UserName="ada")["MFADevices"][0]["SerialNumber"] == serial("phone")
    assert assigned(iam, "phone") == "ada"
    # enabled, so IAM refuses to delete it, as for any assigned device
    assert aws_error(iam.delete_virtual_mfa_device, SerialNumber=serial("phone"))[0] == "DeleteConflict"
    assert sim.races_fired == [{"enable": serial("phone"), "user": "ada"}]


def test_create_replaces_a_device_of_the_same_name_with_new_tags(sim, iam):
    old = seed.make_orphan(iam, "phone")
    sim.race(after={"action": "ListMFADeviceTags", "do": {"create": "phone", "tags": {"iamguard:created-at": "2026-01-01T00:00:00Z"}}})
    assert iam.list_mfa_device_tags(SerialNumber=serial("phone"))["Tags"] == []  # the answer before the event
    assert iam.list_mfa_device_tags(SerialNumber=serial("phone"))["Tags"] == [{"Key": "iamguard:created-at", "Value": "2026-01-01T00:00:00Z"}]
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel
    assert iam_backends[ACCOUNT]["aws"].virtual_mfa_devices[serial("phone")].base32_string_seed != old["seed"]


def test_tag_delete_and_deactivate_events(sim, iam):
    made = seed.make_user(iam, "bo", virtual_mfa=1)
    seed.make_orphan(iam, "spare")
    sim.race(after={"action": "GetUser", "do": {"tag": serial("spare"), "tags": {"k": "v"}}})
    sim.race(after={"action": "GetUser", "nth": 2, "do": {"deactivate": made["mfa_devices"][0]["serial_number"], "user": "bo"}})
    sim.race(after={"action": "GetUser", "nth": 3, "do": {"delete": serial("spare")}})
    iam.get_user(UserName="bo")
    assert iam.list_mfa_device_tags(SerialNumber=serial("spare"))["Tags"] == [{"Key": "k", "Value": "v"}]
    iam.get_user(UserName="bo")
    assert iam.list_mfa_devices(UserName="bo")["MFADevices"] == [] and assigned(iam, "bo") is None
    iam.get_user(UserName="bo")
    assert aws_error(iam.list_mfa_device_tags, SerialNumber=serial("spare"))[0] == "NoSuchEntity"
    assert len(sim.races_fired) == 3


def test_fail_the_next_n_calls_then_act(sim, iam):
    seed.make_orphan(iam, "phone")
    sim.race(fail={"action": "iam:DeleteVirtualMFADevice", "times": 2, "code": "Throttling"})
    for dummy in range(2):
        assert aws_error(iam.delete_virtual_mfa_device, SerialNumber=serial("phone"))[:2] == ("Throttling", "Rate exceeded")
    iam.delete_virtual_mfa_device(SerialNumber=serial("phone"))
    assert sim.counters()["race:fail"] == 2 and sim.counters()["iam:DeleteVirtualMFADevice"] == 1


def test_races_only_in_their_account_and_reset_forgets_them(sim, iam):
    seed.make_orphan(iam, "phone")
    iam.create_user(UserName="ada")
    sim.race(after={"action": "ListUsers", "account": "210987654321", "do": {"enable": serial("phone"), "user": "ada"}})
    sim.race(fail={"action": "ListUsers"})
    sim.reset()
    seed.make_orphan(iam, "phone")
    iam.list_users()
    assert sim.races_fired == [] and assigned(iam, "phone") is None


@pytest.mark.parametrize("race, message", [
    ({"after": {"action": "ListUsers", "do": {"enable": "x"}}}, "need the user"),
    ({"after": {"action": "ListUsers", "do": {"explode": "x"}}}, "exactly one event"),
    ({"after": {"action": "ListUsers", "nth": 0, "do": {"delete": "x"}}}, "nth"),
    ({"fail": {"action": "ListUsers", "code": "Nope"}}, "unknown error code"),
    ({"fail": {"action": "ListUsers", "times": 0}}, "times"),
    ({}, "either after or fail"),
])
def test_bad_races_are_refused_over_the_control_endpoint(sim, race, message):
    request = urllib.request.Request(f"{sim.url}/_iamguard/races", data=json.dumps(race).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)  # noqa: S310 - the local simulator
    assert refused.value.code == 400 and message in json.loads(refused.value.read())["error"]


def test_control_endpoint_stages_and_reports(sim, iam):
    seed.make_orphan(iam, "phone")
    iam.create_user(UserName="ada")
    race = {"after": {"action": "ListUsers", "do": {"enable": serial("phone"), "user": "ada"}}}
    request = urllib.request.Request(f"{sim.url}/_iamguard/races", data=json.dumps(race).encode(), method="POST")
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        assert json.loads(answer.read()) == {"fired": []}
    iam.list_users()
    with urllib.request.urlopen(f"{sim.url}/_iamguard/races") as answer:  # noqa: S310
        assert json.loads(answer.read()) == {"fired": [{"enable": serial("phone"), "user": "ada"}]}
