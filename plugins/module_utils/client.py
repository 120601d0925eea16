# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM client creation, the retry policy, paginated reads and the meaning of IAM errors.

Plain functions over a boto3 client, so every other module_utils file can be
unit-tested with a stub client and no Ansible.
"""

from __future__ import annotations

import threading
import time
import weakref

try:
    import boto3
    import botocore
    import botocore.config
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    BotoCoreError = ClientError = HTTPClientError = BotocoreConnectionError = Exception
    botocore = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# The retry policy lives in one place, call() and read() below, not in botocore.
# botocore's standard and adaptive modes share one retry quota per client (500
# tokens, 5 per throttling retry, 14 per 5xx or connection retry, 1 back per clean
# call): a batch that meets a steady share of faults drains it within a few hundred
# calls and every later fault reaches the module unretried; adaptive mode also
# throttles the client itself down to a call or two per second. So botocore makes
# one attempt, and each IAM call (a paginated read as a whole) gets its own bounded
# jittered backoff: no budget shared between threads that one bad minute can empty.
BOTOCORE_RETRIES = {"mode": "standard", "total_max_attempts": 1}
RETRY_ATTEMPTS = 20
RETRY_DELAY = 0.1  # seconds before the first retry, doubled each time, fully jittered
RETRY_MAX_DELAY = 5.0

THROTTLING_CODES = frozenset(("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled"))
SERVER_CODES = frozenset(("ServiceFailure", "ServiceUnavailable", "InternalFailure", "InternalError", "RequestTimeout"))
# IAM is eventually consistent: an entity changed moments ago, or changed by two
# callers at once, is refused for a short while and then accepted.
SETTLING_CODES = frozenset(("EntityTemporarilyUnmodifiable", "ConcurrentModification", "ConcurrentModificationException"))

MISSING_CODES = frozenset(("NoSuchEntity", "NoSuchEntityException"))
ACCESS_DENIED_CODES = frozenset(("AccessDenied", "AccessDeniedException"))
# Calls that account policies commonly allow only in a session signed in with MFA
# (condition aws:MultiFactorAuthPresent). IAM's answer never names the condition:
# it says "explicit deny in an identity-based policy" or "no identity-based policy
# allows", so the hint rests on the call and on what the session is.
MFA_GATED_OPERATIONS = frozenset(("DeactivateMFADevice", "DeleteVirtualMFADevice", "EnableMFADevice", "ResyncMFADevice"))

MFA_SESSION_FIX = (
    "This task's credentials are long-term access keys, which never carry MFA, and the account's policy may require an "
    "MFA-authenticated session for this call. Obtain one with STS GetSessionToken and your MFA device (aws sts get-session-token "
    "--serial-number <your MFA ARN> --token-code <6 digits>, or amazon.aws.sts_session_token with mfa_serial_number and "
    "mfa_token), then run this task again with its access_key, secret_key and session_token."
)


class IamGuardError(Exception):
    """A failure described in a sentence a person can act on.

    ``exception`` keeps the botocore error, if any, for the structured failure fields.
    """

    def __init__(self, message, exception=None):
        super().__init__(message)
        self.message = message
        self.exception = exception


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


# --- retries ---------------------------------------------------------------------


def retry_reason(exception):
    """Why another attempt of the same call can succeed, or None when it cannot."""
    if isinstance(exception, (BotocoreConnectionError, HTTPClientError)):
        # Dropped or timed-out connection, before or after IAM acted: a removal
        # retried after IAM acted answers NoSuchEntity, which call() takes as done.
        return "connection"
    code = error_code(exception)
    if code in THROTTLING_CODES:
        return "throttled"
    if code in SETTLING_CODES:
        return "settling"
    if code in SERVER_CODES or _http_status(exception) >= 500:
        return "server error"
    return None


def _http_status(exception):
    if isinstance(exception, ClientError):
        return exception.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return 0


class IamRetry(AWSRetry):
    """amazon.aws's retry decorator, taught which IAM failures deserve another attempt."""

    base_class = (ClientError, BotoCoreError)

    @staticmethod
    def status_code_from_exception(error):
        return retry_reason(error)

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        return response_code is not None


def retried(function):
    """``function`` with the collection's bounded, jittered backoff.

    A new decorator per call: amazon.aws keeps the backoff sequence in the
    decorator, and calls from several threads must not share (and reset) one.
    """
    return IamRetry.jittered_backoff(retries=RETRY_ATTEMPTS, delay=RETRY_DELAY, max_delay=RETRY_MAX_DELAY)(function)


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


# --- reads -------------------------------------------------------------------------


# The page-size parameter of a list call: IAM names it MaxItems, Organizations MaxResults.
PAGE_SIZE_PARAMETERS = ("MaxItems", "MaxResults")


def largest_page(client, operation):
    """{page-size parameter: the largest value the API model allows} for ``operation``
    ({"MaxItems": 1000} for IAM's lists, {"MaxResults": 20} for Organizations'), or {}."""
    model = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[operation])
    members = model.input_shape.members if model.input_shape else {}
    for name in PAGE_SIZE_PARAMETERS:
        if name in members and members[name].metadata.get("max"):
            return {name: members[name].metadata["max"]}
    return {}


def paginate(client, operation, result_key, **params):
    """Every item of a paginated list, all pages read, each page as large as the API allows.

    A few IAM lists take Marker/MaxItems but have no botocore paginator
    (ListServiceSpecificCredentials): those follow the markers here.
    """
    params = dict(params, **largest_page(client, operation))
    if client.can_paginate(operation):
        pages = client.get_paginator(operation).paginate(**params)
    else:
        pages = _marker_pages(client, operation, params)
    items = []
    for page in pages:
        items.extend(page.get(result_key, []))
    return items


def _marker_pages(client, operation, params):
    page = getattr(client, operation)(**params)
    yield page
    while page.get("IsTruncated") and page.get("Marker"):
        page = getattr(client, operation)(Marker=page["Marker"], **params)
        yield page


def iso_date(value):
    """A boto3 datetime as ISO 8601 text (results are JSON); anything else as it is."""
    return value.isoformat() if hasattr(value, "isoformat") else value


# --- calls that need a newer SDK ---------------------------------------------------

# The calls newer than the rest, with the botocore release whose API model brought them
# (boto3 of the same number requires it): sts AssumeRoot and iam ListOrganizationsFeatures
# came with centralized root access in 1.35.61 (November 2024), ListServiceSpecificCredentials'
# AllUsers in 1.39.0 (June 2025). The loaded model is asked, not the version number: a
# vendored or patched botocore is judged by what it can send.
NEWER_SDK_CALLS = {
    "assume_root": "1.35.61",
    "list_organizations_features": "1.35.61",
    "list_service_specific_credentials": "1.39.0",
}
MINIMUM_SDK = "1.39.0"  # of botocore and boto3: the newest of NEWER_SDK_CALLS; requirements.txt says the same


def require_sdk(client, operation, params, doing):
    """Raise IamGuardError, before the call is sent, when the installed botocore's model of the
    client's service lacks ``operation`` or one of ``params``; any other call passes unchecked."""
    if operation not in NEWER_SDK_CALLS:
        return
    api = client.meta.method_to_api_mapping.get(operation)
    if api is None:
        lacking = "the call"
    else:
        shape = client.meta.service_model.operation_model(api).input_shape
        unknown = sorted(set(params) - set(shape.members if shape is not None else ()))
        if not unknown:
            return
        lacking = "its parameter %s" % ", ".join(unknown)
    raise IamGuardError(
        "%s needs botocore >= %s: the installed botocore %s does not know %s, so it was not made. Upgrade the AWS SDK "
        "for Python on the host that runs the module (pip install 'boto3>=%s' 'botocore>=%s'; iamguard.aws needs %s or later)."
        % (doing, NEWER_SDK_CALLS[operation], getattr(botocore, "__version__", "(unknown version)"), lacking, MINIMUM_SDK,
           MINIMUM_SDK, MINIMUM_SDK)
    )


# --- what an error means -----------------------------------------------------------


def error_code(exception):
    if isinstance(exception, ClientError):
        return exception.response.get("Error", {}).get("Code")
    return None


def error_message(exception):
    if isinstance(exception, ClientError):
        return exception.response.get("Error", {}).get("Message") or ""
    return str(exception)


def is_missing(exception):
    return error_code(exception) in MISSING_CODES


def is_conflict(exception):
    return error_code(exception) == "DeleteConflict"


def is_mfa_gated_denial(exception):
    """AccessDenied on a call that policies commonly reserve for MFA-authenticated sessions."""
    return error_code(exception) in ACCESS_DENIED_CODES and getattr(exception, "operation_name", None) in MFA_GATED_OPERATIONS


def with_mfa_hint(error, lacks_mfa):
    """``error``, naming the fix when IAM denied an MFA-gated call and ``lacks_mfa()`` says the session has no MFA."""
    if is_mfa_gated_denial(error.exception) and lacks_mfa():
        return IamGuardError("%s %s" % (error.message, MFA_SESSION_FIX), error.exception)
    return error


def explain(exception, doing):
    """An IamGuardError that says what failed and why, quoting IAM's answer once."""
    code = error_code(exception)
    if code in SETTLING_CODES:
        return IamGuardError(
            "%s failed: IAM still reported the entity as being changed (%s) after %d attempts; run the task again." % (doing, code, RETRY_ATTEMPTS),
            exception,
        )
    if code:
        return IamGuardError("%s failed: %s: %s" % (doing, code, error_message(exception)), exception)
    return IamGuardError("%s failed: %s" % (doing, exception), exception)


def call(client, operation, doing, missing_ok=False, **params):
    """Run one IAM call, retried by the collection's policy; translate its failure into an IamGuardError.

    With ``missing_ok`` a NoSuchEntity answer means "already gone" and returns None
    (also when an earlier attempt removed it and its answer was lost).
    """
    require_sdk(client, operation, params, doing)
    try:
        return retried(getattr(client, operation))(**params)
    except (BotoCoreError, ClientError) as e:
        if missing_ok and is_missing(e):
            return None
        raise explain(e, doing)


def read(client, operation, result_key, doing, missing_ok=False, **params):
    """A paginated read, retried as a whole, whose failures become IamGuardError.

    With ``missing_ok`` a NoSuchEntity answer (the user is gone) returns None.
    """
    require_sdk(client, operation, params, doing)
    try:
        return retried(paginate)(client, operation, result_key, **params)
    except (BotoCoreError, ClientError) as e:
        if missing_ok and is_missing(e):
            return None
        raise explain(e, doing)
