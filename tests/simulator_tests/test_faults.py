"""Injected faults (option faults): the error IAM answers, whether the backend acted, counters, seeds, filters."""

import json
import time
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError

from tests.simulator import seed

from .helpers import aws_error

STANDARD_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 25})


def _names(iam):
    return [user["UserName"] for user in iam.list_users()["Users"]]


@pytest.mark.parametrize("kind, expected", [
    ("throttling", ("Throttling", "Rate exceeded", 400)),
    ("http_500", ("ServiceFailure", None, 500)),
    ("http_503", ("ServiceUnavailable", None, 503)),
    ("temporarily_unmodifiable", ("EntityTemporarilyUnmodifiable", None, 409)),
    ("concurrent_modification", ("ConcurrentModification", None, 409)),
])
def test_error_faults_answer_as_iam_and_change_nothing(sim, iam, kind, expected):
    sim.configure(faults={kind: 1.0})
    code, message, status = aws_error(iam.create_user, UserName="alice")
    assert (code, status) == (expected[0], expected[2])
    assert expected[1] is None or message == expected[1]
    assert sim.counters() == {f"fault:{kind}": 1}
    sim.configure(faults={})
    assert _names(iam) == []


@pytest.mark.parametrize("kind, code", [("temporarily_unmodifiable", "EntityTemporarilyUnmodifiable"),
                                        ("concurrent_modification", "ConcurrentModification")])
def test_modification_faults_hit_mutating_calls_only(sim, iam, kind, code):
    sim.configure(faults={kind: 1.0})
    assert iam.list_users()["Users"] == []
    iam.get_account_summary()
    assert aws_error(iam.delete_user, UserName="nobody")[0] == code
    assert sim.counters() == {"iam:ListUsers": 1, "iam:GetAccountSummary": 1, f"fault:{kind}": 1}


def test_connection_dropped_before_the_backend_acts(sim, iam):
    sim.configure(faults={"drop_before": 1.0})
    with pytest.raises(ConnectionClosedError):
        iam.create_user(UserName="alice")
    sim.configure(faults={})
    assert _names(iam) == []
    assert sim.counters()["fault:drop_before"] == 1 and "iam:CreateUser" not in sim.counters()


def test_connection_dropped_after_the_backend_acted(sim, iam):
    """The answer is lost but the user exists: a retry of the call meets EntityAlreadyExists."""
    sim.configure(faults={"drop_after": 1.0})
    with pytest.raises(ConnectionClosedError):
        iam.create_user(UserName="alice")
    sim.configure(faults={})
    assert _names(iam) == ["alice"]
    assert aws_error(iam.create_user, UserName="alice")[0] == "EntityAlreadyExists"
    assert sim.counters()["fault:drop_after"] == 1 and sim.counters()["iam:CreateUser"] == 2


def test_just_deleted_entities_stay_listed_for_a_moment(sim, iam):
    serial = seed.make_orphan(iam, "gone")["serial_number"]
    iam.create_user(UserName="gone")
    sim.configure(faults={"stale_list": 1.0}, linger_seconds=0.6)
    iam.delete_user(UserName="gone")
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert _names(iam) == ["gone"]
    assert aws_error(iam.get_user, UserName="gone")[0] == "NoSuchEntity"
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial]
    assert aws_error(iam.delete_virtual_mfa_device, SerialNumber=serial)[0] == "NoSuchEntity"
    iam.create_user(UserName="gone")  # the name is free again at once, and listed once
    assert _names(iam) == ["gone"]
    iam.delete_user(UserName="gone")
    assert aws_error(iam.delete_user, UserName="gone")[0] == "NoSuchEntity"  # a failed Delete leaves nothing lingering
    time.sleep(0.7)
    assert _names(iam) == []
    assert serial not in [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]
    assert sim.counters()["fault:stale_list"] == 3


def test_deactivated_devices_and_deleted_keys_stay_listed_for_a_moment(sim, iam):
    made = seed.make_user(iam, "carol", access_keys=2, hardware_mfa=1, virtual_mfa=1)
    devices = {d["type"]: d["serial_number"] for d in made["mfa_devices"]}
    hardware, virtual = devices["hardware"], devices["virtual"]
    gone_key, kept_key = made["access_key_ids"]
    seed.make_user(iam, "dave", access_keys=1, hardware_mfa=1)
    sim.configure(faults={"stale_list": 1.0}, linger_seconds=0.6)
    iam.deactivate_mfa_device(UserName="carol", SerialNumber=hardware)
    iam.delete_access_key(UserName="carol", AccessKeyId=gone_key)
    listed = iam.list_mfa_devices(UserName="carol")["MFADevices"]
    assert sorted(d["SerialNumber"] for d in listed) == sorted([hardware, virtual]) and all(d["UserName"] == "carol" for d in listed)
    keys = iam.list_access_keys(UserName="carol")["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in keys) == sorted([gone_key, kept_key]) and all(k["Status"] == "Active" for k in keys)
    assert len(iam.list_mfa_devices(UserName="dave")["MFADevices"]) == 1  # other users' lists are untouched
    assert len(iam.list_access_keys(UserName="dave")["AccessKeyMetadata"]) == 1
    assert aws_error(iam.deactivate_mfa_device, UserName="carol", SerialNumber=hardware)[0] == "NoSuchEntity"
    assert aws_error(iam.delete_access_key, UserName="carol", AccessKeyId=gone_key)[0] == "NoSuchEntity"
    time.sleep(0.7)
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="carol")["MFADevices"]] == [virtual]
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="carol")["AccessKeyMetadata"]] == [kept_key]
    assert sim.counters()["fault:stale_list"] == 2


def test_shares_follow_the_seed(sim):
    sts = sim.client("sts", config=Config(retries={"total_max_attempts": 1}))

    def pattern():
        outcome = []
        for dummy in range(200):
            try:
                sts.get_caller_identity()
                outcome.append(".")
            except sts.exceptions.ClientError as error:
                outcome.append(error.response["Error"]["Code"][0])
        return "".join(outcome)

    sim.configure(faults={"throttling": 0.3, "http_500": 0.1}, fault_seed=7)
    first = pattern()
    assert 40 <= first.count("T") <= 80 and 8 <= first.count("S") <= 35
    assert sim.counters()["fault:throttling"] == first.count("T")
    sim.reset()
    assert pattern() == first
    sim.configure(fault_seed=8)
    assert pattern() != first


def test_fault_actions_choose_the_calls(sim, iam):
    iam.create_user(UserName="alice")
    sim.configure(faults={"http_503": 1.0}, fault_actions=["iam:Delete*", "GetUser"])
    iam.list_users()
    iam.create_user(UserName="bob")
    assert aws_error(iam.get_user, UserName="bob")[0] == "ServiceUnavailable"
    assert aws_error(iam.delete_user, UserName="alice")[0] == "ServiceUnavailable"
    sim.client("sts").get_caller_identity()
    assert sim.counters()["fault:http_503"] == 2


def test_botocore_retries_every_transient_kind_to_success(sim):
    """The codes and statuses are the ones AWS SDKs take as transient: a mix of them is absorbed by standard retries."""
    iam = sim.client("iam", config=STANDARD_RETRIES)
    # seed 10: each of the four kinds meets these ten calls, with few repeats in a row (botocore's backoff grows fast)
    sim.configure(faults={"throttling": 0.2, "http_500": 0.08, "http_503": 0.08, "drop_before": 0.08}, fault_seed=10)
    for index in range(10):
        iam.create_user(UserName=f"user-{index}")
    sim.configure(faults={})
    assert len(_names(iam)) == 10
    counters = sim.counters()
    assert all(counters.get(f"fault:{kind}", 0) > 0 for kind in ("throttling", "http_500", "http_503", "drop_before"))


def test_bad_fault_options_are_refused_and_change_nothing(sim):
    for bad in ({"faults": {"gremlins": 0.1}}, {"faults": {"throttling": 1.5}}, {"faults": {"throttling": 0.6, "http_500": 0.6}},
                {"faults": ["throttling"]}, {"fault_seed": "x"}, {"fault_actions": "iam:*"}, {"linger_seconds": -1},
                {"concurrency": "wild"}):
        with pytest.raises(ValueError):
            sim.configure(**bad)
    assert sim.options["faults"] == {} and sim.options["concurrency"] == "accounts"


def test_fault_control_endpoint(sim, iam):
    def post(path, payload):
        request = urllib.request.Request(sim.url + path, data=json.dumps(payload).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    config = post("/_iamguard/config", {"faults": {"throttling": 1.0}, "fault_seed": 1, "fault_actions": ["ListUsers"]})
    assert config["faults"] == {"throttling": 1.0} and config["fault_actions"] == ["ListUsers"]
    assert aws_error(iam.list_users)[0] == "Throttling"
    with urllib.request.urlopen(sim.url + "/_iamguard/counters", timeout=10) as response:
        assert json.loads(response.read()) == {"fault:throttling": 1}
