"""Callers other than an IAM user: an assumed role (acting in the role's account) and the root user of an account."""

import json
import urllib.request

import pytest

from tests.simulator import seed

from .conftest import NO_RETRIES
from .helpers import aws_error

HOME, OTHER, THIRD = "123456789012", "111111111111", "222222222222"


def _assume(sim, account, session_name, role="ops-audit"):
    """Credentials of sts:AssumeRole into `account` (moto needs no role there), as client() keywords."""
    credentials = sim.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName=session_name)["Credentials"]
    return {"access_key": credentials["AccessKeyId"], "secret_key": credentials["SecretAccessKey"], "session_token": credentials["SessionToken"]}


def _users(client):
    return [user["UserName"] for user in client.list_users()["Users"]]


def test_an_assumed_role_acts_in_its_own_account(sim, iam):
    in_other, in_third = _assume(sim, OTHER, "run-1"), _assume(sim, THIRD, "run-2")
    sim.client("iam", **in_other).create_user(UserName="alice")
    assert _users(sim.client("iam", **in_other)) == ["alice"]
    assert sim.client("iam", **in_other).get_user(UserName="alice")["User"]["Arn"] == f"arn:aws:iam::{OTHER}:user/alice"
    assert _users(sim.client("iam", **in_third)) == []
    assert _users(iam) == []
    for account, credentials, session_name in ((OTHER, in_other, "run-1"), (THIRD, in_third, "run-2")):
        identity = sim.client("sts", **credentials).get_caller_identity()
        assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/ops-audit/{session_name}"
        assert identity["Account"] == account and identity["UserId"].endswith(f":{session_name}")


def test_counters_per_account(sim, iam):
    in_other = sim.client("iam", **_assume(sim, OTHER, "count"))
    in_other.create_user(UserName="alice")
    in_other.list_users()
    iam.list_users()
    assert sim.counters(OTHER) == {"iam:CreateUser": 1, "iam:ListUsers": 1}
    assert sim.counters(HOME) == {"sts:AssumeRole": 1, "iam:ListUsers": 1}
    assert sim.counters(THIRD) == {}
    with urllib.request.urlopen(f"{sim.url}/_iamguard/counters?account={OTHER}", timeout=10) as response:
        assert json.loads(response.read()) == {"iam:CreateUser": 1, "iam:ListUsers": 1}


def test_an_assumed_role_is_no_iam_user(sim):
    credentials = _assume(sim, OTHER, "svc")
    iam, sts = sim.client("iam", config=NO_RETRIES, **credentials), sim.client("sts", config=NO_RETRIES, **credentials)
    assert aws_error(iam.list_mfa_devices)[0] == "ValidationError"  # no UserName and no user to default to
    assert aws_error(sts.get_session_token)[0] == "AccessDenied"  # session credentials cannot get a session token


def test_the_mfa_deny_names_the_assumed_role(sim):
    credentials = _assume(sim, OTHER, "offboard")
    iam = sim.client("iam", config=NO_RETRIES, **credentials)
    serial = seed.make_user(iam, "alice", hardware_mfa=1)["mfa_devices"][0]["serial_number"]
    sim.configure(require_mfa_session=True)
    code, message, status = aws_error(iam.deactivate_mfa_device, UserName="alice", SerialNumber=serial)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:sts::{OTHER}:assumed-role/ops-audit/offboard is not authorized to perform: "
                       f"iam:DeactivateMFADevice on resource: arn:aws:iam::{OTHER}:user/alice with an explicit deny in an identity-based policy")


def test_root_credentials_call_as_the_account_root(sim, iam):
    root = sim.root_credentials(OTHER)
    identity = sim.client("sts", **root).get_caller_identity()
    assert identity == {**identity, "Arn": f"arn:aws:iam::{OTHER}:root", "Account": OTHER, "UserId": OTHER}
    root_iam = sim.client("iam", config=NO_RETRIES, **root)
    root_iam.create_user(UserName="bob")
    assert _users(root_iam) == ["bob"] and _users(iam) == []
    # root is no IAM user: without UserName its calls act on root's own credentials (root.py)
    assert [d["SerialNumber"] for d in root_iam.list_mfa_devices()["MFADevices"]] == [f"arn:aws:iam::{OTHER}:mfa/root-account-mfa-device"]
    assert [k["AccessKeyId"] for k in root_iam.list_access_keys()["AccessKeyMetadata"]] == [root["access_key"]]
    home_root = sim.root_credentials()
    assert sim.client("sts", **home_root).get_caller_identity()["Arn"] == f"arn:aws:iam::{HOME}:root"


def test_root_sessions_and_reset(sim):
    root = sim.root_credentials(OTHER)
    session = sim.client("sts", **root).get_session_token()["Credentials"]
    session_sts = sim.client("sts", access_key=session["AccessKeyId"], secret_key=session["SecretAccessKey"],
                             session_token=session["SessionToken"])
    assert session_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{OTHER}:root"
    sim.reset()
    assert sim.client("sts", **root).get_caller_identity()["Arn"] != f"arn:aws:iam::{OTHER}:root"


def test_root_credentials_endpoint(sim):
    request = urllib.request.Request(sim.url + "/_iamguard/root-credentials", data=json.dumps({"account": THIRD}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        root = json.loads(response.read())
    assert sim.client("sts", **root).get_caller_identity()["Arn"] == f"arn:aws:iam::{THIRD}:root"
    with pytest.raises(ValueError):
        sim.root_credentials("12345")
