# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""errors.py: what an AWS error means - gone, in conflict, worth another attempt, an MFA-gated denial and its hint."""

from __future__ import annotations

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from ansible_collections.iamguard.aws.plugins.module_utils import calls, errors


S4_MESSAGE = "To complete this action, please ensure that you are authenticated with an MFA device that is enabled for this user."
# What IAM really answers when a policy demands MFA: nothing in it names MFA.
REAL_EXPLICIT_DENY = ("User: arn:aws:iam::123456789012:user/ops is not authorized to perform: iam:DeactivateMFADevice on resource: "
                      "arn:aws:iam::123456789012:user/alice with an explicit deny in an identity-based policy")
REAL_NO_ALLOW = ("User: arn:aws:iam::123456789012:user/ops is not authorized to perform: iam:DeactivateMFADevice on resource: "
                 "arn:aws:iam::123456789012:user/alice because no identity-based policy allows the iam:DeactivateMFADevice action")


@pytest.mark.parametrize(
    "code, missing, conflict",
    [
        ("NoSuchEntity", True, False),
        ("NoSuchEntityException", True, False),
        ("DeleteConflict", False, True),
        ("EntityAlreadyExists", False, False),
        ("AccessDenied", False, False),
    ],
)
def test_error_classification(client_error, code, missing, conflict):
    error = client_error(code, "whatever")
    assert errors.error_code(error) == code
    assert errors.is_missing(error) is missing
    assert errors.is_conflict(error) is conflict
    assert errors.is_mfa_gated_denial(error) is False


def test_non_client_error_has_no_code():
    error = EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/")
    assert errors.error_code(error) is None
    assert not errors.is_missing(error)
    assert not errors.is_conflict(error)
    assert not errors.is_mfa_gated_denial(error)
    assert "iam.amazonaws.com" in errors.error_message(error)


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException"])
@pytest.mark.parametrize("operation", ["DeactivateMFADevice", "DeleteVirtualMFADevice", "EnableMFADevice", "ResyncMFADevice"])
@pytest.mark.parametrize("message", [REAL_EXPLICIT_DENY, REAL_NO_ALLOW, ""])
def test_mfa_gated_denial_rests_on_the_call_not_the_words(client_error, code, operation, message):
    assert errors.is_mfa_gated_denial(client_error(code, message, operation))


@pytest.mark.parametrize(
    "code, message, operation",
    [
        ("AccessDenied", REAL_EXPLICIT_DENY, "DeleteUser"),
        ("AccessDenied", S4_MESSAGE, "ListUsers"),
        ("InvalidAuthenticationCode", S4_MESSAGE, "EnableMFADevice"),
    ],
)
def test_not_mfa_gated_denial(client_error, code, message, operation):
    assert not errors.is_mfa_gated_denial(client_error(code, message, operation))


def test_mfa_hint_when_the_session_lacks_mfa(client_error):
    error = calls.explain(client_error("AccessDenied", REAL_EXPLICIT_DENY, "DeactivateMFADevice"), "DeactivateMFADevice alice")
    hinted = errors.with_mfa_hint(error, lambda: True)
    assert hinted.exception is error.exception
    assert hinted.message.startswith(error.message)
    for fix in ("long-term access keys", "get-session-token", "session_token", "sts_session_token"):
        assert fix in hinted.message
    assert hinted.message.count(REAL_EXPLICIT_DENY) == 1


def test_no_mfa_hint_for_a_session_that_may_carry_mfa(client_error):
    error = calls.explain(client_error("AccessDenied", REAL_EXPLICIT_DENY, "DeactivateMFADevice"), "DeactivateMFADevice alice")
    assert errors.with_mfa_hint(error, lambda: False) is error


def test_no_mfa_hint_and_no_session_question_for_other_calls(client_error):
    error = calls.explain(client_error("AccessDenied", REAL_EXPLICIT_DENY, "DeleteUser"), "DeleteUser alice")

    def lacks_mfa():
        raise AssertionError("the session is only looked at for MFA-gated calls")

    assert errors.with_mfa_hint(error, lacks_mfa) is error


@pytest.mark.parametrize(
    "code, status, reason",
    [
        ("Throttling", 400, "throttled"),
        ("RequestLimitExceeded", 400, "throttled"),
        ("EntityTemporarilyUnmodifiable", 409, "settling"),
        ("ConcurrentModification", 409, "settling"),
        ("ServiceFailure", 500, "server error"),
        ("ServiceUnavailable", 503, "server error"),
        ("", 502, "server error"),
        ("NoSuchEntity", 404, None),
        ("DeleteConflict", 409, None),
        ("AccessDenied", 403, None),
        ("LimitExceeded", 409, None),  # an IAM quota, not a rate: retrying cannot help
        ("EntityAlreadyExists", 409, None),
    ],
)
def test_retry_reason_of_answers(client_error, code, status, reason):
    assert errors.retry_reason(client_error(code, "x", status=status)) == reason


@pytest.mark.parametrize("error", [
    ConnectionClosedError(endpoint_url="https://iam.amazonaws.com/"),
    EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/"),
    ReadTimeoutError(endpoint_url="https://iam.amazonaws.com/"),
])
def test_retry_reason_of_lost_connections(error):
    assert errors.retry_reason(error) == "connection"


def test_retry_reason_of_other_errors():
    assert errors.retry_reason(ValueError("bug")) is None
