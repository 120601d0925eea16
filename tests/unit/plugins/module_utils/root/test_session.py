# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root sessions: AssumeRoot's parameters, renewal before expiry (a fake clock), the regional STS endpoint."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.root import session as rs

MEMBER = "210987654321"
START = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


class Signed(Exception):
    """Raised instead of sending a request: carries the access key the request was signed with."""


def _sts():
    return boto3.client("sts", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def _answer(key, issued_at):
    return {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s" * 40, "SessionToken": "t" * 40,
                            "Expiration": issued_at + timedelta(seconds=900)}}


EXPECTED = {"TargetPrincipal": MEMBER, "DurationSeconds": 900,
            "TaskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"}}


def signing_key(client):
    """The access key id of the Authorization header of a GetUser request, without sending it."""
    def capture(request, **kwargs):
        raise Signed(request.headers["Authorization"].decode() if isinstance(request.headers["Authorization"], bytes)
                     else request.headers["Authorization"])
    client.meta.events.register("before-send.iam", capture)
    with pytest.raises(Signed) as signed:
        client.get_user()
    client.meta.events.unregister("before-send.iam", capture)
    return str(signed.value).split("Credential=")[1].split("/")[0]


def test_session_is_renewed_before_it_expires_and_the_iam_client_signs_with_the_new_one():
    sts, clock = _sts(), Clock()
    with Stubber(sts) as stub:
        stub.add_response("assume_root", _answer("ASIAFIRSTSESSION0001", START), EXPECTED)
        stub.add_response("assume_root", _answer("ASIASECONDSESSION001", START + timedelta(seconds=700)), EXPECTED)
        session = rs.RootSession(sts, MEMBER, rs.DELETE_TASK_POLICY, "aws", clock=clock)
        iam = session.iam_client("us-east-1", endpoint_url="http://127.0.0.1:9")
        assert signing_key(iam) == "ASIAFIRSTSESSION0001"
        clock.now = START + timedelta(seconds=900 - rs.RENEW_SECONDS - 1)  # still more than RENEW_SECONDS left
        assert signing_key(iam) == "ASIAFIRSTSESSION0001" and session.assumed == 1
        clock.now = START + timedelta(seconds=900 - rs.MUST_RENEW_SECONDS + 1)  # less than MUST_RENEW_SECONDS left
        assert signing_key(iam) == "ASIASECONDSESSION001" and session.assumed == 2
        clock.now = START + timedelta(seconds=1000)  # the second session has plenty left
        assert signing_key(iam) == "ASIASECONDSESSION001" and session.assumed == 2
        stub.assert_no_pending_responses()


def test_session_never_outlives_assume_roots_limit():
    assert rs.MAX_SESSION_SECONDS == 900
    assert 0 < rs.MUST_RENEW_SECONDS < rs.RENEW_SECONDS < rs.MAX_SESSION_SECONDS


@pytest.mark.parametrize("region, url", [
    ("us-east-1", "https://sts.us-east-1.amazonaws.com"),
    ("eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
    ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
])
def test_regional_url(region, url):
    assert rs.regional_sts_url(region) == url


@pytest.mark.parametrize("region", [None, "", "aws-global"])
def test_no_region_or_the_global_pseudo_region_is_refused(region):
    with pytest.raises(IamGuardError) as raised:
        rs.regional_sts_url(region)
    assert "regional STS endpoint" in raised.value.message and "Nothing was changed" in raised.value.message


def _factory(made, **defaults):
    def make(endpoint_url=None):
        client = boto3.client("sts", aws_access_key_id="x", aws_secret_access_key="x", endpoint_url=endpoint_url, **defaults)
        made.append(client.meta.endpoint_url)
        return client
    return make


def test_legacy_configuration_global_endpoint_is_replaced_by_the_regional_one(monkeypatch):
    # botocore picks the global endpoint for us-east-1 when the configuration says legacy
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    made = []
    client = rs.regional_sts_client(_factory(made, region_name="us-east-1"), "us-east-1")
    assert made == ["https://sts.amazonaws.com", "https://sts.us-east-1.amazonaws.com"]
    assert client.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


def test_regional_and_explicit_endpoints_are_kept(monkeypatch):
    monkeypatch.delenv("AWS_STS_REGIONAL_ENDPOINTS", raising=False)
    made = []
    assert rs.regional_sts_client(_factory(made, region_name="eu-west-1"), "eu-west-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
    simulator = "http://127.0.0.1:5000"
    made = []
    client = rs.regional_sts_client(lambda endpoint_url=None: boto3.client(
        "sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", endpoint_url=endpoint_url or simulator), "us-east-1")
    assert client.meta.endpoint_url == simulator


def test_global_endpoint_is_recognised():
    assert rs.is_global_sts_url("https://sts.amazonaws.com")
    assert not rs.is_global_sts_url("https://sts.us-east-1.amazonaws.com")
    assert not rs.is_global_sts_url("http://127.0.0.1:5000")
