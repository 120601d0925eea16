# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""calls.py: one call - the installed SDK checked, the retry policy, failures explained."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from ansible_collections.iamguard.aws.plugins.module_utils import calls, errors, paging


S4_MESSAGE = "To complete this action, please ensure that you are authenticated with an MFA device that is enabled for this user."
SERIAL_1 = "arn:aws:iam::123456789012:mfa/alice"
REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))


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
