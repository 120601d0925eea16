# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failure means: the collection's error type, and how to read an AWS error.

IamGuardError carries a sentence a person can act on. The rest reads a botocore
error: gone, in conflict, worth another attempt, or an MFA-gated denial (with its hint).
No AWS call here.
"""

from __future__ import annotations

try:
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    ClientError = HTTPClientError = BotocoreConnectionError = Exception

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
