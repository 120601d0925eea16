# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber
from ansible_collections.iamguard.aws.plugins.module_utils import calls, errors, paging, session


S4_MESSAGE = "To complete this action, please ensure that you are authenticated with an MFA device that is enabled for this user."
# What IAM really answers when a policy demands MFA: nothing in it names MFA.
REAL_EXPLICIT_DENY = ("User: arn:aws:iam::123456789012:user/ops is not authorized to perform: iam:DeactivateMFADevice on resource: "
                      "arn:aws:iam::123456789012:user/alice with an explicit deny in an identity-based policy")
REAL_NO_ALLOW = ("User: arn:aws:iam::123456789012:user/ops is not authorized to perform: iam:DeactivateMFADevice on resource: "
                 "arn:aws:iam::123456789012:user/alice because no identity-based policy allows the iam:DeactivateMFADevice action")
SERIAL_1 = "arn:aws:iam::123456789012:mfa/alice"
SERIAL_2 = "arn:aws:iam::123456789012:mfa/bob"
SERIAL_3 = "arn:aws:iam::123456789012:mfa/carol"
REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))


def test_paginate_reads_every_page(iam, stub):
    stub.add_response(
        "list_virtual_mfa_devices",
        {"VirtualMFADevices": [{"SerialNumber": SERIAL_1}, {"SerialNumber": SERIAL_2}], "IsTruncated": True, "Marker": "page-2"},
        {"AssignmentStatus": "Any", "MaxItems": 1000},
    )
    stub.add_response(
        "list_virtual_mfa_devices",
        {"VirtualMFADevices": [{"SerialNumber": SERIAL_3}], "IsTruncated": False},
        {"AssignmentStatus": "Any", "Marker": "page-2", "MaxItems": 1000},
    )
    items = iam_paginate(iam)
    assert [item["SerialNumber"] for item in items] == [SERIAL_1, SERIAL_2, SERIAL_3]


def iam_paginate(client):
    return paging.paginate(client, "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Any")


def test_paginate_page_without_result_key_is_empty(iam, stub):
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": False}, {"UserName": "alice", "MaxItems": 1000})
    assert paging.paginate(iam, "list_mfa_devices", "MFADevices", UserName="alice") == []


def test_paginate_follows_markers_without_a_botocore_paginator(iam, stub):
    credential = {
        "UserName": "alice", "Status": "Active", "ServiceUserName": "alice-at-123456789012", "CreateDate": "2024-01-02T03:04:05Z",
        "ServiceSpecificCredentialId": "ACCAEXAMPLEEXAMPLE01", "ServiceName": "codecommit.amazonaws.com",
    }
    second = dict(credential, ServiceSpecificCredentialId="ACCAEXAMPLEEXAMPLE02")
    stub.add_response(
        "list_service_specific_credentials", {"ServiceSpecificCredentials": [credential], "IsTruncated": True, "Marker": "m1"},
        {"UserName": "alice", "MaxItems": 1000},
    )
    stub.add_response(
        "list_service_specific_credentials", {"ServiceSpecificCredentials": [second], "IsTruncated": False},
        {"UserName": "alice", "Marker": "m1", "MaxItems": 1000},
    )
    items = paging.paginate(iam, "list_service_specific_credentials", "ServiceSpecificCredentials", UserName="alice")
    assert [item["ServiceSpecificCredentialId"] for item in items] == ["ACCAEXAMPLEEXAMPLE01", "ACCAEXAMPLEEXAMPLE02"]


def test_paginate_without_paginator_single_page(iam, stub):
    stub.add_response("list_service_specific_credentials", {"ServiceSpecificCredentials": []}, {"UserName": "alice", "MaxItems": 1000})
    assert paging.paginate(iam, "list_service_specific_credentials", "ServiceSpecificCredentials", UserName="alice") == []


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


def test_explain_settling_entity_says_it_was_retried(client_error):
    error = client_error("EntityTemporarilyUnmodifiable", "Login Profile for User alice cannot be modified while login profile is being created.")
    explained = calls.explain(error, "DeleteLoginProfile alice")
    assert explained.exception is error
    assert explained.message.startswith("DeleteLoginProfile alice failed")
    assert "EntityTemporarilyUnmodifiable" in explained.message and "%d attempts" % calls.RETRY_ATTEMPTS in explained.message
    assert "run the task again" in explained.message


def test_explain_other_client_error_keeps_code_and_message(client_error):
    error = client_error("DeleteConflict", "Cannot delete entity, must remove tokens from principal first.")
    explained = calls.explain(error, "DeleteUser alice")
    assert explained.message == "DeleteUser alice failed: DeleteConflict: Cannot delete entity, must remove tokens from principal first."
    assert explained.exception is error


def test_explain_botocore_error():
    error = EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/")
    explained = calls.explain(error, "ListUsers")
    assert explained.message.startswith("ListUsers failed: ")
    assert "iam.amazonaws.com" in explained.message
    assert explained.exception is error


def test_call_returns_the_response(iam, stub):
    user = {
        "Path": "/", "UserName": "alice", "UserId": "AIDAEXAMPLEEXAMPLE01", "Arn": "arn:aws:iam::123456789012:user/alice", "CreateDate": "2024-01-02T03:04:05Z",
    }
    stub.add_response("get_user", {"User": user}, {"UserName": "alice"})
    response = calls.call(iam, "get_user", "GetUser alice", UserName="alice")
    assert response["User"]["UserId"] == "AIDAEXAMPLEEXAMPLE01"


def test_call_missing_ok_returns_none_on_no_such_entity(iam, stub):
    stub.add_client_error("delete_virtual_mfa_device", "NoSuchEntity", "gone", 404, expected_params={"SerialNumber": SERIAL_1})
    assert calls.call(iam, "delete_virtual_mfa_device", "DeleteVirtualMFADevice", missing_ok=True, SerialNumber=SERIAL_1) is None


def test_call_missing_not_ok_raises(iam, stub):
    stub.add_client_error("delete_virtual_mfa_device", "NoSuchEntity", "gone", 404, expected_params={"SerialNumber": SERIAL_1})
    with pytest.raises(errors.IamGuardError) as caught:
        calls.call(iam, "delete_virtual_mfa_device", "DeleteVirtualMFADevice x", SerialNumber=SERIAL_1)
    assert isinstance(caught.value.exception, ClientError)
    assert caught.value.message == "DeleteVirtualMFADevice x failed: NoSuchEntity: gone"


def test_call_missing_ok_still_raises_other_errors(iam, stub):
    stub.add_client_error("deactivate_mfa_device", "AccessDenied", S4_MESSAGE, 403, expected_params={"UserName": "alice", "SerialNumber": SERIAL_1})
    with pytest.raises(errors.IamGuardError) as caught:
        calls.call(iam, "deactivate_mfa_device", "DeactivateMFADevice", missing_ok=True, UserName="alice", SerialNumber=SERIAL_1)
    assert errors.error_code(caught.value.exception) == "AccessDenied"
    assert caught.value.message == "DeactivateMFADevice failed: AccessDenied: " + S4_MESSAGE  # IAM's text once, no guessed hint


def test_read_all_pages(iam, stub):
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_response(
        "list_mfa_devices",
        {"MFADevices": [{"UserName": "alice", "SerialNumber": SERIAL_1, "EnableDate": "2024-01-02T03:04:05Z"}], "IsTruncated": False},
        {"UserName": "alice", "Marker": "m", "MaxItems": 1000},
    )
    devices = paging.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", UserName="alice")
    assert [device["SerialNumber"] for device in devices] == [SERIAL_1]


def test_read_missing_ok_returns_none(iam, stub):
    stub.add_client_error("list_mfa_devices", "NoSuchEntity", "The user with name ghost cannot be found.", 404,
                          expected_params={"UserName": "ghost", "MaxItems": 1000})
    assert paging.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", missing_ok=True, UserName="ghost") is None


def test_read_missing_not_ok_raises(iam, stub):
    stub.add_client_error("list_mfa_devices", "NoSuchEntity", "The user with name ghost cannot be found.", 404,
                          expected_params={"UserName": "ghost", "MaxItems": 1000})
    with pytest.raises(errors.IamGuardError) as caught:
        paging.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices for ghost", UserName="ghost")
    assert caught.value.message.startswith("ListMFADevices for ghost failed: NoSuchEntity")


def test_read_error_on_a_later_page_raises(iam, stub):
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_client_error("list_mfa_devices", "AccessDenied", "no", 403, expected_params={"UserName": "alice", "Marker": "m", "MaxItems": 1000})
    with pytest.raises(errors.IamGuardError) as caught:
        paging.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", missing_ok=True, UserName="alice")
    assert errors.error_code(caught.value.exception) == "AccessDenied"


# --- the retry policy ------------------------------------------------------------------


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries without the waits, so a test of 20 attempts takes no time."""
    monkeypatch.setattr(calls, "RETRY_DELAY", 0)


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


@pytest.mark.parametrize("code, status", [("Throttling", 400), ("EntityTemporarilyUnmodifiable", 409), ("ConcurrentModification", 409),
                                          ("ServiceUnavailable", 503), ("ServiceFailure", 500)])
def test_call_retries_transient_answers_until_success(iam, stub, no_backoff, code, status):  # pylint: disable=unused-argument
    for dummy in range(3):
        stub.add_client_error("delete_login_profile", code, "injected", status, expected_params={"UserName": "alice"})
    stub.add_response("delete_login_profile", {}, {"UserName": "alice"})
    assert calls.call(iam, "delete_login_profile", "DeleteLoginProfile alice", UserName="alice") == {}


def test_call_retries_are_bounded(iam, stub, no_backoff):  # pylint: disable=unused-argument
    for dummy in range(calls.RETRY_ATTEMPTS):
        stub.add_client_error("delete_login_profile", "EntityTemporarilyUnmodifiable", "being created", 409, expected_params={"UserName": "alice"})
    with pytest.raises(errors.IamGuardError) as caught:
        calls.call(iam, "delete_login_profile", "DeleteLoginProfile alice", UserName="alice")
    assert "after %d attempts" % calls.RETRY_ATTEMPTS in caught.value.message


def test_call_does_not_retry_a_final_answer(iam, stub, no_backoff):  # pylint: disable=unused-argument
    stub.add_client_error("delete_user", "DeleteConflict", "must remove tokens", 409, expected_params={"UserName": "alice"})
    with pytest.raises(errors.IamGuardError):
        calls.call(iam, "delete_user", "DeleteUser alice", UserName="alice")


def test_read_retries_the_whole_paginated_read(iam, stub, no_backoff):  # pylint: disable=unused-argument
    first = {"UserName": "alice", "SerialNumber": SERIAL_1, "EnableDate": "2024-01-02T03:04:05Z"}
    second = dict(first, SerialNumber=SERIAL_2)
    stub.add_response("list_mfa_devices", {"MFADevices": [first], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_client_error("list_mfa_devices", "ServiceUnavailable", "injected", 503, expected_params={"UserName": "alice", "Marker": "m", "MaxItems": 1000})
    stub.add_response("list_mfa_devices", {"MFADevices": [first], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_response("list_mfa_devices", {"MFADevices": [second], "IsTruncated": False}, {"UserName": "alice", "Marker": "m", "MaxItems": 1000})
    devices = paging.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", UserName="alice")
    assert [device["SerialNumber"] for device in devices] == [SERIAL_1, SERIAL_2]  # no page twice


class _LostAnswerClient:
    """IAM removes the thing, then the connection drops before the answer; the retry finds it gone."""

    def __init__(self, client_error):
        self.calls = 0
        self._client_error = client_error

    def delete_ssh_public_key(self, **params):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionClosedError(endpoint_url="https://iam.amazonaws.com/")
        raise self._client_error("NoSuchEntity", "The Public Key with id %s cannot be found." % params["SSHPublicKeyId"], "DeleteSSHPublicKey", 404)


def test_removal_whose_answer_was_lost_is_done(client_error, no_backoff):  # pylint: disable=unused-argument
    client = _LostAnswerClient(client_error)
    answer = calls.call(client, "delete_ssh_public_key", "DeleteSSHPublicKey", missing_ok=True, UserName="alice", SSHPublicKeyId="APKA1")
    assert answer is None and client.calls == 2


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


# --- an SDK older than the calls ---------------------------------------------------


def _without_parameter(monkeypatch, client, operation, parameter):
    """The client as an older botocore builds it: its model's ``operation`` input lacks ``parameter``."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    monkeypatch.setitem(shape.__dict__, "members", {name: member for name, member in shape.members.items() if name != parameter})


def test_an_sdk_without_all_users_fails_clearly_before_the_call(iam, stub, monkeypatch):  # pylint: disable=unused-argument
    _without_parameter(monkeypatch, iam, "ListServiceSpecificCredentials", "AllUsers")
    with pytest.raises(errors.IamGuardError) as caught:  # the Stubber has no answer: a call sent would fail otherwise
        paging.read(iam, "list_service_specific_credentials", "ServiceSpecificCredentials", "ListServiceSpecificCredentials for all users",
                          AllUsers=True)
    message = caught.value.message
    assert message.startswith("ListServiceSpecificCredentials for all users needs botocore >= 1.39.0: the installed botocore ")
    assert "does not know its parameter AllUsers, so it was not made" in message and "pip install 'boto3>=1.39.0' 'botocore>=1.39.0'" in message
    # the per-user form of the same call is older and goes on
    stub.add_response("list_service_specific_credentials", {"ServiceSpecificCredentials": []}, {"UserName": "alice", "MaxItems": 1000})
    assert paging.read(iam, "list_service_specific_credentials", "ServiceSpecificCredentials", "List", UserName="alice") == []


@pytest.mark.parametrize("service, operation, api", [("sts", "assume_root", "AssumeRoot"),
                                                     ("iam", "list_organizations_features", "ListOrganizationsFeatures")])
def test_an_sdk_without_the_operation_fails_clearly(monkeypatch, service, operation, api):
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    monkeypatch.delitem(client.meta.method_to_api_mapping, operation)
    with pytest.raises(errors.IamGuardError) as caught:
        calls.call(client, operation, api)
    assert caught.value.message.startswith("%s needs botocore >= 1.35.61: the installed botocore " % api)
    assert "does not know the call, so it was not made" in caught.value.message


def test_the_installed_sdk_knows_every_newer_call():
    # What requirements.txt declares is what the pinned SDK of the tests has.
    for service in ("iam", "sts"):
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        for operation in calls.NEWER_SDK_CALLS:
            if operation in client.meta.method_to_api_mapping:
                calls.require_sdk(client, operation, {"AllUsers": True} if operation == "list_service_specific_credentials" else {}, "x")
    with open(os.path.join(REPO, "requirements.txt"), encoding="utf-8") as handle:
        declared = handle.read()
    assert "boto3>=%s" % calls.MINIMUM_SDK in declared and "botocore>=%s" % calls.MINIMUM_SDK in declared
    assert calls.MINIMUM_SDK == max(calls.NEWER_SDK_CALLS.values(), key=lambda v: tuple(map(int, v.split("."))))
