# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""paging.py: paginated reads, every page as large as the API allows, retried as a whole."""

from __future__ import annotations

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import errors, paging


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


def test_read_retries_the_whole_paginated_read(iam, stub, no_backoff):  # pylint: disable=unused-argument
    first = {"UserName": "alice", "SerialNumber": SERIAL_1, "EnableDate": "2024-01-02T03:04:05Z"}
    second = dict(first, SerialNumber=SERIAL_2)
    stub.add_response("list_mfa_devices", {"MFADevices": [first], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_client_error("list_mfa_devices", "ServiceUnavailable", "injected", 503, expected_params={"UserName": "alice", "Marker": "m", "MaxItems": 1000})
    stub.add_response("list_mfa_devices", {"MFADevices": [first], "IsTruncated": True, "Marker": "m"}, {"UserName": "alice", "MaxItems": 1000})
    stub.add_response("list_mfa_devices", {"MFADevices": [second], "IsTruncated": False}, {"UserName": "alice", "Marker": "m", "MaxItems": 1000})
    devices = paging.read(iam, "list_mfa_devices", "MFADevices", "ListMFADevices", UserName="alice")
    assert [device["SerialNumber"] for device in devices] == [SERIAL_1, SERIAL_2]  # no page twice
