# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""session.py: clients from one boto3 session per run, whether the credentials can carry MFA, and the SendRate pace."""

from __future__ import annotations

import random

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils import errors, paging, session


class _FakeModule:
    def __init__(self, **params):
        self.params = dict({"access_key": None, "secret_key": None, "session_token": None, "profile": None, "region": "us-east-1",
                            "endpoint_url": None, "validate_certs": True, "aws_ca_bundle": None, "aws_config": None}, **params)


@pytest.mark.parametrize("factory, service", [(session.iam_client, "iam"), (session.sts_client, "sts")])
def test_clients_leave_retries_to_the_collection(factory, service):
    client = factory(_FakeModule(access_key="AKIAEXAMPLE", secret_key="s", aws_config={"connect_timeout": 7}))
    assert client.meta.service_model.service_name == service
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert client.meta.config.connect_timeout == 7  # the module's aws_config is kept
    assert client.meta.config.user_agent_extra == "iamguard.aws"


def test_clients_of_one_module_run_share_one_session(monkeypatch):
    sessions = []
    real_session = boto3.session.Session

    def counting_session(**kwargs):
        sessions.append(kwargs)
        return real_session(**kwargs)

    monkeypatch.setattr(session.boto3.session, "Session", counting_session)
    module = _FakeModule(access_key="AKIAEXAMPLE", secret_key="s", endpoint_url="http://127.0.0.1:1")
    iam, sts = session.iam_client(module), session.sts_client(module)
    assert len(sessions) == 1
    assert iam.meta.endpoint_url == sts.meta.endpoint_url == "http://127.0.0.1:1"  # as amazon.aws's module.client aims both
    assert iam._request_signer._credentials.access_key == "AKIAEXAMPLE"  # pylint: disable=protected-access
    session.iam_client(_FakeModule())
    assert len(sessions) == 2  # another run, its own session


def test_a_connection_option_error_is_an_iam_guard_error():
    with pytest.raises(errors.IamGuardError, match="Connecting to AWS IAM failed"):
        session.iam_client(_FakeModule(endpoint_url="not a url"))


@pytest.mark.parametrize("factory, operation", [(session.iam_client, "list_users"), (session.sts_client, "get_caller_identity")])
def test_clients_pace_every_attempt(factory, operation):
    client = factory(_FakeModule(access_key="AKIAEXAMPLE", secret_key="s"))
    stubber = Stubber(client)
    stubber.add_client_error(operation, "Throttling", "Rate exceeded", 400)
    stubber.activate()
    tickets = []
    client.meta.events.register("after-call.*.*", lambda context, **kwargs: tickets.append(context.get(session.RATE_CONTEXT_KEY)))
    with pytest.raises(ClientError):
        getattr(client, operation)()
    assert tickets == [1]  # the stubbed answer too went through the client's SendRate


def test_long_term_keys_lack_mfa(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert session.credentials_lack_mfa(_FakeModule(access_key="AKIAEXAMPLE", secret_key="s")) is True
    assert session.credentials_lack_mfa(_FakeModule(access_key="ASIAEXAMPLE", secret_key="s", session_token="token")) is False


def test_unknown_credentials_do_not_claim_a_lack_of_mfa(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    assert session.credentials_lack_mfa(_FakeModule(profile="no-such-profile")) is False


# --- SendRate on a fake clock: the pace it keeps against a throttle, and against throttling that is not one


class FakeTime:
    """A clock that moves only when the code under test sleeps or the test says so."""

    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.now += seconds


class ServerBucket:
    """IAM's side: ``rate`` calls a second, ``burst`` at once, the others refused (and not counted)."""

    def __init__(self, time_, rate, burst):
        self.time = time_
        self.rate = rate
        self.tokens = burst
        self.burst = burst
        self.stamp = time_.now

    def take(self):
        self.tokens = min(self.burst, self.tokens + (self.time.now - self.stamp) * self.rate)
        self.stamp = self.time.now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def send_rate():
    time_ = FakeTime()
    return time_, session.SendRate(clock=time_.clock, sleep=time_.sleep)


def answer(rate, throttled, count=1):
    for dummy in range(count):
        rate.answered(rate.acquire(), throttled)


def test_unlimited_until_iam_throttles():
    time_, rate = send_rate()
    answer(rate, False, 1000)
    assert rate.rate is None and time_.now == 0


def test_a_throttle_cuts_to_under_the_rate_iam_accepted():
    time_, rate = send_rate()
    for dummy in range(30):
        answer(rate, False)
        time_.now += 0.1  # 30 accepted in 3 s: 10 calls/s
    answer(rate, True)
    assert time_.now >= session.RATE_MEASURE
    assert abs(rate.rate - session.RATE_CUT * 30 / 3.0) < 1e-9
    started = time_.now
    for dummy in range(90):
        rate.acquire()
    assert 90 / (time_.now - started) <= rate.rate  # now paced, every attempt takes a token


def test_answers_to_calls_sent_before_a_cut_do_not_cut_again():
    time_, rate = send_rate()
    in_flight = [rate.acquire() for dummy in range(10)]
    for dummy in range(20):
        answer(rate, False)
    time_.now = 3.0
    answer(rate, True)
    cut = rate.rate
    assert cut is not None
    for ticket in in_flight:
        rate.answered(ticket, True)
    assert rate.rate == cut


def test_the_rate_recovers_by_a_share_per_second():
    time_, rate = send_rate()
    answer(rate, False, 20)
    time_.now = 2.0
    answer(rate, True)
    cut = rate.rate
    time_.now += 10
    rate.acquire()
    assert abs(rate.rate - cut * (1 + session.RATE_RECOVERY * 10)) < 1e-9


def test_never_below_the_floor():
    time_, rate = send_rate()
    answer(rate, True, 19)
    time_.now = 100.0
    answer(rate, True)  # nothing accepted at all
    assert rate.rate == session.RATE_FLOOR


def test_paced_against_iam_throttle_few_refusals_rate_kept_busy():
    """A sender that alone would make 80 calls/s (4 threads, 50 ms a call) against 20 calls/s, burst 20, for 200 s."""
    time_, rate = send_rate()
    server = ServerBucket(time_, 20.0, 20)
    accepted = throttled = 0
    while time_.now < 200:
        ticket = rate.acquire()
        refused = not server.take()
        rate.answered(ticket, refused)
        throttled += refused
        accepted += not refused
        time_.now += 0.0125
    assert throttled < 0.05 * (accepted + throttled)
    assert accepted >= 0.9 * 20 * 200


def test_without_a_limit_the_same_sender_is_mostly_refused():
    """The control of the test above: what an unpaced sender meets."""
    time_ = FakeTime()
    server = ServerBucket(time_, 20.0, 20)
    refused = 0
    for dummy in range(16000):
        refused += not server.take()
        time_.now += 0.0125
    assert refused > 0.5 * 16000


def test_throttling_that_does_not_follow_the_rate_is_not_chased_to_the_floor():
    """30 % of calls throttled whatever the pace (a bad minute, other callers): the cuts are undone."""
    time_, rate = send_rate()
    draw = random.Random(7)
    sent = 0
    while time_.now < 120:
        rate.answered(rate.acquire(), draw.random() < 0.3)
        sent += 1
        time_.now += 0.02  # the sender alone manages 50 calls/s
    assert sent >= 0.85 * 50 * 120  # cuts tried now and then, not kept
    assert rate.rate is None or rate.rate > 20


def test_a_cut_that_helped_is_kept():
    time_, rate = send_rate()
    while rate.rate is None:
        answer(rate, time_.now > 0.5)  # then refused: well over the account's rate
        time_.now += 0.01
    cut = rate.rate
    assert cut is not None
    for dummy in range(session.RATE_SAMPLE):
        answer(rate, False)
    assert rate.rate >= cut and rate._previous is None  # pylint: disable=protected-access


def test_a_client_shares_one_send_rate_across_its_calls():
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    time_, rate = send_rate()
    session.rate_limited(client, rate)
    stubber = Stubber(client)
    for dummy in range(20):
        stubber.add_response("list_users", {"Users": []})
    stubber.add_client_error("list_users", "Throttling", "Rate exceeded", 400)
    stubber.add_response("list_users", {"Users": []})
    stubber.activate()
    for dummy in range(20):
        client.list_users()
    time_.now = 4.0
    assert paging.read(client, "list_users", "Users", "ListUsers") == []  # retried after the throttle
    assert abs(rate.rate - session.RATE_CUT * 20 / 4.0) < 1e-9
    stubber.assert_no_pending_responses()
