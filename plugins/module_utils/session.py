# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clients: one boto3 session per module run, IAM/STS clients with the module's connection options, and their pace.

Every client is rate limited by its own SendRate, which adapts to IAM's throttling.
The retry policy is calls.py's: botocore itself makes one attempt.
"""

from __future__ import annotations

import threading
import time
import weakref

try:
    import boto3
    import botocore
    import botocore.config
    from botocore.exceptions import BotoCoreError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    BotoCoreError = Exception
    botocore = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, THROTTLING_CODES

# The retry policy lives in one place, calls.call() and paging.read(), not in botocore.
# botocore's standard and adaptive modes share one retry quota per client (500
# tokens, 5 per throttling retry, 14 per 5xx or connection retry, 1 back per clean
# call): a batch that meets a steady share of faults drains it within a few hundred
# calls and every later fault reaches the module unretried; adaptive mode also
# throttles the client itself down to a call or two per second. So botocore makes
# one attempt, and each IAM call (a paginated read as a whole) gets its own bounded
# jittered backoff: no budget shared between threads that one bad minute can empty.
BOTOCORE_RETRIES = {"mode": "standard", "total_max_attempts": 1}


def iam_client(module):
    """The IAM client of an AnsibleAWSModule; retries are call()'s and read()'s, the pace is its own SendRate."""
    return aws_client(module, "iam")


def sts_client(module):
    return aws_client(module, "sts")


# One boto3 session per module run, shared by its clients: each new session parses
# botocore's endpoint and model files again, which cost a one-user run more time than
# any of its API calls (amazon.aws's module.client makes a session per client).
_SESSIONS = weakref.WeakKeyDictionary()


def aws_client(module, service, endpoint_url=None):
    """A client of ``service`` with the module's connection options (those of amazon.aws's module.client).

    ``endpoint_url`` replaces the module's own (e.g. a regional STS endpoint).
    """
    region, module_endpoint_url, params = get_aws_connection_info(module)
    endpoint_url = endpoint_url or module_endpoint_url
    if module not in _SESSIONS:
        _SESSIONS[module] = boto3.session.Session(profile_name=params.get("profile_name"))
    config = botocore.config.Config(retries=BOTOCORE_RETRIES, user_agent_extra="iamguard.aws")
    if params.get("aws_config") is not None:
        config = params["aws_config"].merge(config)
    try:
        client = _SESSIONS[module].client(
            service, region_name=region, endpoint_url=endpoint_url, config=config, verify=params.get("verify"),
            aws_access_key_id=params.get("aws_access_key_id"), aws_secret_access_key=params.get("aws_secret_access_key"),
            aws_session_token=params.get("aws_session_token"),
        )
    except (BotoCoreError, ValueError) as e:
        raise IamGuardError("Connecting to AWS %s failed: %s" % (service.upper(), e), e)
    return rate_limited(client)


def credentials_lack_mfa(module):
    """True when the task signs with long-term access keys, which never carry MFA.

    Only an STS session (which has a session token) can be MFA-authenticated; for
    a session the answer is False because this side cannot tell, and the hint that
    depends on it is not given.
    """
    dummy, dummy, params = get_aws_connection_info(module)
    try:
        session = boto3.session.Session(
            profile_name=params.get("profile_name"),
            aws_access_key_id=params.get("aws_access_key_id"),
            aws_secret_access_key=params.get("aws_secret_access_key"),
            aws_session_token=params.get("aws_session_token"),
        )
        credentials = session.get_credentials()
    except BotoCoreError:
        return False  # unknown: no hint rather than a second failure on top of IAM's
    return credentials is not None and not credentials.get_frozen_credentials().token


# --- client-side rate --------------------------------------------------------------

# IAM throttles each account to a rate and counts refused attempts against it, so a
# client that retries at full speed while refused starves itself and every other
# caller of the account. These govern SendRate, below.
RATE_CUT = 0.9  # after a throttling answer: this share of the rate IAM has been accepting
RATE_RECOVERY = 0.02  # then the rate grows by this share of itself per second
RATE_FLOOR = 0.5  # calls/s: the slowest the client ever goes
RATE_SAMPLE = 20  # answers after a cut that tell whether the cut lowered the throttled share
RATE_MEASURE = 2.0  # seconds of answers, at least, the accepted rate is measured over
RATE_HELPED = 0.5  # a cut helped when the throttled share fell below this share of the one before
RATE_TESTABLE_SHARE = 0.15  # a smaller share before the cut proves nothing either way
RATE_HOLD = 10.0  # seconds without cuts after throttling proved not to follow this client's rate
RATE_CONTEXT_KEY = "iamguard_send_rate_ticket"


class SendRate:
    """A token bucket shared by every thread that calls through one client, adapting to IAM's throttle.

    Unlimited until IAM answers Throttling. Then the rate is cut to a little under the
    rate IAM has been accepting (answers not throttled per second since the last
    change, over at least RATE_MEASURE seconds) and grows back by a small share of itself each second, so it settles just
    under the account's rate. Every attempt, first or retry, takes a token.

    Throttling that does not follow this client's rate (other callers of the account,
    a bad minute of IAM) would otherwise ratchet the rate down to the floor: so the
    first RATE_SAMPLE answers after a cut judge it, and a cut that did not lower the
    throttled share is undone and no other cut is made for RATE_HOLD seconds.

    ``clock`` and ``sleep`` are time.monotonic and time.sleep unless a test gives its own.
    """

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.rate = None  # calls per second, None: unlimited
        self._tokens = 0.0
        self._stamp = None  # when tokens and rate were last brought up to date
        self._hold_until = None
        self._previous = None  # (rate before the last cut, throttled share that caused it) until the cut is judged
        self._generation = 0
        self._start_generation(clock())

    def _start_generation(self, now):
        """Count the answers to calls sent at the rate set now, apart from those sent before."""
        self._generation += 1
        self._since = now
        self._answers = 0
        self._throttled = 0

    def acquire(self):
        """Wait for this call's token; return the ticket to give answered()."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            if self.rate is not None:
                elapsed = now - self._stamp
                self.rate *= 1 + RATE_RECOVERY * elapsed
                self._tokens = min(1.0, self._tokens + elapsed * self.rate) - 1
                self._stamp = now
                wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            ticket = self._generation
        if wait:
            self._sleep(wait)
        return ticket

    def answered(self, ticket, throttled):
        """IAM answered the call of ``ticket``: throttled, or anything else."""
        with self._lock:
            if ticket != self._generation:
                return  # sent at an earlier rate: says nothing about this one
            self._answers += 1
            self._throttled += throttled
            now = self._clock()
            share = self._throttled / self._answers
            if self._previous is not None and self._answers == RATE_SAMPLE:
                self._judge_cut(share, now)
            elif throttled and self._measured(now) and not (self._hold_until and now < self._hold_until):
                self._cut(share, now)

    def _measured(self, now):
        """Whether enough answers over enough time tell the rate IAM accepts (a first burst can be far above it)."""
        return self._answers >= RATE_SAMPLE and now - self._since >= RATE_MEASURE

    def _judge_cut(self, share, now):
        rate_before, share_before = self._previous
        if share < RATE_HELPED * share_before:
            self._previous = None  # the cut helped: IAM's throttle follows this client's rate
        elif share_before >= RATE_TESTABLE_SHARE:
            self._set_rate(rate_before, now)  # it did not: slowing down further would not help either
            self._previous = None
            self._hold_until = now + RATE_HOLD

    def _cut(self, share, now):
        accepted = (self._answers - self._throttled) / (now - self._since)
        self._previous = (self.rate, share)
        self._set_rate(max(RATE_FLOOR, RATE_CUT * accepted), now)

    def _set_rate(self, rate, now):
        self.rate = rate
        self._tokens = 0.0
        self._stamp = now
        self._start_generation(now)


def rate_limited(client, send_rate=None):
    """``client``, each of whose requests first takes a token of ``send_rate`` (a new SendRate by default)."""
    send_rate = send_rate or SendRate()

    def before_call(context, **kwargs):  # pylint: disable=unused-argument
        context[RATE_CONTEXT_KEY] = send_rate.acquire()

    def after_call(context, parsed, **kwargs):  # pylint: disable=unused-argument
        if RATE_CONTEXT_KEY in context:
            send_rate.answered(context[RATE_CONTEXT_KEY], parsed.get("Error", {}).get("Code") in THROTTLING_CODES)

    # First: a handler of the same event that answers the call itself (a Stubber) must not skip the token.
    client.meta.events.register_first("before-call.*.*", before_call)
    client.meta.events.register("after-call.*.*", after_call)
    return client
