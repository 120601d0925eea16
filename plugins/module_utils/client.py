# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM client creation, the retry policy, paginated reads and the meaning of IAM errors.

Plain functions over a boto3 client, so every other module_utils file can be
unit-tested with a stub client and no Ansible.
"""

from __future__ import annotations

try:
    import boto3
    import botocore.config
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    BotoCoreError = ClientError = HTTPClientError = BotocoreConnectionError = Exception

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
    """The IAM client of an AnsibleAWSModule; retries are call()'s and read()'s."""
    return module.client("iam", config=botocore.config.Config(retries=BOTOCORE_RETRIES))


def sts_client(module):
    return module.client("sts", config=botocore.config.Config(retries=BOTOCORE_RETRIES))


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
    try:
        return retried(paginate)(client, operation, result_key, **params)
    except (BotoCoreError, ClientError) as e:
        if missing_ok and is_missing(e):
            return None
        raise explain(e, doing)
