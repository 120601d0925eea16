# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.iamguard.aws.plugins.module_utils import client as client_utils

S4_MESSAGE = "To complete this action, please ensure that you are authenticated with an MFA device that is enabled for this user."
SERIAL_1 = "arn:aws:iam::123456789012:mfa/alice"
SERIAL_2 = "arn:aws:iam::123456789012:mfa/bob"
SERIAL_3 = "arn:aws:iam::123456789012:mfa/carol"


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
    return client_utils.paginate(client, "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Any")


def test_paginate_page_without_result_key_is_empty(iam, stub):
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": False}, {"UserName": "alice", "MaxItems": 1000})
    assert client_utils.paginate(iam, "list_mfa_devices", "MFADevices", UserName="alice") == []


def test_paginate_follows_markers_without_a_botocore_paginator(iam, stub):
    credential = {
        "UserName": "alice", "Status": "Active", "ServiceUserName": "alice-at-123456789012", "CreateDate": "2024-01-02T03:04:05Z",
        "ServiceSpecificCredentialId": "ACCAEXAMPLEEXAMPLE01", "ServiceName": "codecommit.amazonaws.com",
    }
    second = dict(credential, ServiceSpecificCredentialId="ACCAEXAMPLEEXAMPLE02")
    stub.add_response(
        "list_service_specific_credentials", {"ServiceSpecificCredentials": [credential], "IsTruncated": True, "Marker": "m1"}, {"UserName": "alice", "MaxItems": 1000}
    )
    stub.add_response(
        "list_service_specific_credentials", {"ServiceSpecificCredentials": [second], "IsTruncated": False}, {"UserName": "alice", "Marker": "m1", "MaxItems": 1000}
    )
    items = client_utils.paginate(iam, "list_service_specific_credentials", "ServiceSpecificCredentials", UserName="alice")
    assert [item["ServiceSpecificCredentialId"] for item in items] == ["ACCAEXAMPLEEXAMPLE01", "ACCAEXAMPLEEXAMPLE02"]


def test_paginate_without_paginator_single_page(iam, stub):
    stub.add_response("list_service_specific_credentials", {"ServiceSpecificCredentials": []}, {"UserName": "alice", "MaxItems": 1000})
    assert client_utils.paginate(iam, "list_service_specific_credentials", "ServiceSpecificCredentials", UserName="alice") == []


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
    assert client_utils.error_code(error) == code
    assert client_utils.is_missing(error) is missing
    assert client_utils.is_conflict(error) is conflict
    assert client_utils.is_mfa_required(error) is False


def test_non_client_error_has_no_code():
    error = EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/")
    assert client_utils.error_code(error) is None
    assert not client_utils.is_missing(error)
    assert not client_utils.is_conflict(error)
    assert not client_utils.is_mfa_required(error)
    assert "iam.amazonaws.com" in client_utils.error_message(error)


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException"])
@pytest.mark.parametrize(
    "message",
    [
        S4_MESSAGE,
        "Explicit deny: condition aws:MultiFactorAuthPresent is false",
        "This operation requires Multi-Factor authentication",
    ],
)
def test_mfa_required_access_denied(client_error, code, message):
    assert client_utils.is_mfa_required(client_error(code, message, "DeactivateMFADevice"))


@pytest.mark.parametrize(
    "code, message",
    [
        ("AccessDenied", "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:DeactivateMFADevice"),
        ("AccessDenied", ""),
        # The MFA wording with another code is not the S4 case.
        ("InvalidAuthenticationCode", S4_MESSAGE),
    ],
)
def test_not_mfa_required(client_error, code, message):
    assert not client_utils.is_mfa_required(client_error(code, message))


def test_explain_mfa_required_names_the_fix(client_error):
    error = client_error("AccessDenied", S4_MESSAGE, "DeactivateMFADevice")
    explained = client_utils.explain(error, "DeactivateMFADevice alice")
    assert isinstance(explained, client_utils.IamGuardError)
    assert explained.exception is error
    assert explained.message == str(explained)
    assert explained.message.startswith("DeactivateMFADevice alice was denied")
    for fix in ("get-session-token", "session_token", "sts_session_token", "MFA"):
        assert fix in explained.message


def test_explain_temporarily_unmodifiable(client_error):
    error = client_error("EntityTemporarilyUnmodifiable", "Login Profile for User alice cannot be modified while login profile is being created.")
    explained = client_utils.explain(error, "DeleteLoginProfile alice")
    assert explained.exception is error
    assert "DeleteLoginProfile alice failed" in explained.message
    assert "temporarily unmodifiable" in explained.message
    assert "run the task again" in explained.message


def test_explain_other_client_error_keeps_code_and_message(client_error):
    error = client_error("DeleteConflict", "Cannot delete entity, must remove tokens from principal first.")
    explained = client_utils.explain(error, "DeleteUser alice")
    assert explained.message == "DeleteUser alice failed: DeleteConflict: Cannot delete entity, must remove tokens from principal first."
    assert explained.exception is error


def test_explain_botocore_error():
    error = EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/")
    explained = client_utils.explain(error, "ListUsers")
    assert explained.message.startswith("ListUsers failed: ")
    assert "iam.amazonaws.com" in explained.message
    assert explained.exception is error


def test_call_returns_the_response(iam, stub):
    user = {
        "Path": "/", "UserName": "alice", "UserId": "AIDAEXAMPLEEXAMPLE01", "Arn": "arn:aws:iam::123456789012:user/alice", "CreateDate": "2024-01-02T03:04:05Z",
    }
    stub.add_response("get_user", {"User": user}, {"UserName": "alice"})
    response = client_utils.call(iam, "get_user", "GetUser alice", UserName="alice")
    assert response["User"]["UserId"] == "AIDAEXAMPLEEXAMPLE01"


def test_call_missing_ok_returns_none_on_no_such_entity(iam, stub):
    stub.add_client_error("delete_virtual_mfa_device", "NoSuchEntity", "gone", 404, expected_params={"SerialNumber": SERIAL_1})
    assert client_utils.call(iam, "delete_virtual_mfa_device", "DeleteVirtualMFADevice", missing_ok=True, SerialNumber=SERIAL_1) is None


def test_call_missing_not_ok_raises(iam, stub):
    stub.add_client_error("delete_virtual_mfa_device", "NoSuchEntity", "gone", 404, expected_params={"SerialNumber": SERIAL_1})
    with pytest.raises(client_utils.IamGuardError) as caught:
        client_utils.call(iam, "delete_virtual_mfa_device", "DeleteVirtualMFADevice x", SerialNumber=SERIAL_1)
    assert isinstance(caught.value.exception, ClientError)
    assert caught.value.message == "DeleteVirtualMFADevice x failed: NoSuchEntity: gone"


def test_call_missing_ok_still_raises_other_errors(iam, stub):
    stub.add_client_error("deactivate_mfa_device", "AccessDenied", S4_MESSAGE, 403, expected_params={"UserName": "alice", "SerialNumber": SERIAL_1})
    with pytest.raises(client_utils.IamGuardError) as caught:
        client_utils.call(iam, "deactivate_mfa_device", "DeactivateMFADevice", missing_ok=True, UserName="alice", SerialNumber=SERIAL_1)
    assert client_utils.error_code(caught.value.exception) == "AccessDenied"
    assert "get-session-token" in caught.value.message


def test_read_all_pages(iam, stub):
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_response(
        "list_mfa_devices",
        {"MFADevices": [{"UserName": "alice", "SerialNumber": SERIAL_1, "EnableDate": "2024-01-02T03:04:05Z"}], "IsTruncated": False},
        {"UserName": "alice", "Marker": "m", "MaxItems": 1000},
    )
    devices = client_utils.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", UserName="alice")
    assert [device["SerialNumber"] for device in devices] == [SERIAL_1]


def test_read_missing_ok_returns_none(iam, stub):
    stub.add_client_error("list_mfa_devices", "NoSuchEntity", "The user with name ghost cannot be found.", 404, expected_params={"UserName": "ghost", "MaxItems": 1000})
    assert client_utils.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", missing_ok=True, UserName="ghost") is None


def test_read_missing_not_ok_raises(iam, stub):
    stub.add_client_error("list_mfa_devices", "NoSuchEntity", "The user with name ghost cannot be found.", 404, expected_params={"UserName": "ghost", "MaxItems": 1000})
    with pytest.raises(client_utils.IamGuardError) as caught:
        client_utils.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices for ghost", UserName="ghost")
    assert caught.value.message.startswith("ListMFADevices for ghost failed: NoSuchEntity")


def test_read_error_on_a_later_page_raises(iam, stub):
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_client_error("list_mfa_devices", "ServiceFailure", "boom", 500, expected_params={"UserName": "alice", "Marker": "m", "MaxItems": 1000})
    with pytest.raises(client_utils.IamGuardError) as caught:
        client_utils.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", missing_ok=True, UserName="alice")
    assert client_utils.error_code(caught.value.exception) == "ServiceFailure"


class _FakeModule:
    def __init__(self):
        self.calls = []

    def client(self, service, config=None):
        self.calls.append((service, config))
        return service


@pytest.mark.parametrize("factory, service", [(client_utils.iam_client, "iam"), (client_utils.sts_client, "sts")])
def test_clients_use_botocore_retry_mode(factory, service):
    module = _FakeModule()
    assert factory(module) == service
    assert len(module.calls) == 1
    asked, config = module.calls[0]
    assert asked == service
    assert config.retries == {"mode": "adaptive", "max_attempts": 10}
