# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils.devices import VirtualDevices
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.sources import per_user
from tests.unit.plugins.module_utils.iam_doubles import (
    DATE, ISO, POLICY, POLICY_2, PASSKEY, mfa_serial, user_id, raw_user, key_id, ssh_id, cert_id, cred_id, stub_inventory, stub_missing_user, ALICE,
    ALICE_VIRTUAL, FakeIam,
)


def test_index_users_by_id_reads_every_page(iam, stub):
    stub.add_response("list_users", {"Users": [raw_user("alice")], "IsTruncated": True, "Marker": "m"}, {"MaxItems": 1000})
    stub.add_response("list_users", {"Users": [raw_user("bob")], "IsTruncated": False}, {"Marker": "m", "MaxItems": 1000})
    assert sorted(per_user.index_users_by_id(iam)) == sorted([user_id("alice"), user_id("bob")])


def test_get_user_record(iam, stub):
    raw = raw_user("alice", Tags=[{"Key": "team", "Value": "ops"}],
                   PermissionsBoundary={"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": POLICY_2})
    stub.add_response("get_user", {"User": raw}, {"UserName": "alice"})
    assert per_user.get_user(iam, "alice") == {
        "user_name": "alice", "user_id": user_id("alice"), "arn": raw["Arn"], "path": "/", "create_date": ISO,
        "tags": {"team": "ops"}, "permissions_boundary": POLICY_2,
    }


def test_get_user_missing(iam, stub):
    stub_missing_user(stub, "ghost")
    assert per_user.get_user(iam, "ghost") is None


def test_inventory_reads_everything(iam, stub):
    stub_inventory(stub, "alice", ALICE, ALICE_VIRTUAL)
    facts = per_user.inventory(iam, "alice", VirtualDevices(iam))
    assert facts["user"]["user_name"] == "alice"
    assert facts["login_profile"] == {"create_date": ISO, "password_reset_required": False}
    assert facts["access_keys"] == [
        {"access_key_id": key_id(1), "status": "Active", "create_date": ISO},
        {"access_key_id": key_id(2), "status": "Inactive", "create_date": ISO},
    ]
    assert [k["ssh_public_key_id"] for k in facts["ssh_public_keys"]] == [ssh_id(1)]
    assert [c["certificate_id"] for c in facts["signing_certificates"]] == [cert_id(1)]
    assert [c["service_specific_credential_id"] for c in facts["service_specific_credentials"]] == [cred_id(1)]
    assert [(d["serial_number"], d["type"]) for d in facts["mfa_devices"]] == [(mfa_serial("alice"), "virtual"), (PASSKEY, "passkey")]
    assert facts["groups"] == ["devs"]
    assert facts["inline_policies"] == {"zeta": None, "alpha": None}
    assert facts["attached_policies"] == [POLICY]
    assert facts["warnings"] == []


def test_inventory_missing_user_reads_nothing_else(iam, stub):
    stub_missing_user(stub, "ghost")
    assert per_user.inventory(iam, "ghost", VirtualDevices(iam)) is None


def test_inventory_ssh_invalid_action_is_a_warning(iam, stub):
    stub_inventory(stub, "bob", {"ssh_invalid": True})
    facts = per_user.inventory(iam, "bob", VirtualDevices(iam))
    assert facts["ssh_public_keys"] == []
    assert facts["warnings"] == ["ListSSHPublicKeys is not available in this partition; user bob was taken to have no SSH keys."]


def test_inventory_other_ssh_error_raises(iam, stub):
    stub.add_response("get_user", {"User": raw_user("bob")}, {"UserName": "bob"})
    stub.add_client_error("get_login_profile", "NoSuchEntity", "", 404, expected_params={"UserName": "bob"})
    stub.add_response("list_access_keys", {"AccessKeyMetadata": []}, {"UserName": "bob", "MaxItems": 1000})
    stub.add_client_error("list_ssh_public_keys", "AccessDenied", "denied", 403, expected_params={"UserName": "bob", "MaxItems": 1000})
    with pytest.raises(IamGuardError, match="reading SSH public keys of user bob failed: AccessDenied"):
        per_user.inventory(iam, "bob", VirtualDevices(iam))


def test_inventory_detailed_reads_what_the_manifest_needs(iam, stub):
    stub_inventory(stub, "bob", {"keys": [(key_id(3), "Active")], "ssh": [ssh_id(3)], "inline": ["p"]})
    stub.add_response("get_access_key_last_used", {"UserName": "bob", "AccessKeyLastUsed": {"LastUsedDate": DATE, "ServiceName": "s3", "Region": "eu-west-1"}},
                      {"AccessKeyId": key_id(3)})
    stub.add_response(
        "get_ssh_public_key",
        {"SSHPublicKey": {"UserName": "bob", "SSHPublicKeyId": ssh_id(3), "Fingerprint": "f" * 48, "SSHPublicKeyBody": "ssh-ed25519 AAAA", "Status": "Active"}},
        {"UserName": "bob", "SSHPublicKeyId": ssh_id(3), "Encoding": "SSH"},
    )
    document = '{"Version": "2012-10-17", "Statement": []}'
    stub.add_response("get_user_policy", {"UserName": "bob", "PolicyName": "p", "PolicyDocument": document}, {"UserName": "bob", "PolicyName": "p"})
    facts = per_user.inventory(iam, "bob", VirtualDevices(iam), detailed=True)
    assert facts["access_keys"][0]["last_used"] == {"date": ISO, "service": "s3", "region": "eu-west-1"}
    assert facts["ssh_public_keys"][0]["body"] == "ssh-ed25519 AAAA"
    assert facts["inline_policies"]["p"] in (document, json.loads(document))


def test_reads_at_once_give_the_same_facts():
    fake = FakeIam()
    fake.add_user("erin", keys=[key_id(1)], virtual=[mfa_serial("erin")], attached=[POLICY])
    one_by_one = per_user.inventory(fake, "erin", VirtualDevices(fake))
    fake.calls.clear()
    fake.peak = 0
    at_once = per_user.inventory(fake, "erin", VirtualDevices(fake), parallel=True)
    assert at_once == one_by_one
    assert {call[0] for call in fake.calls} >= {"get_user", "list_access_keys", "list_mfa_devices", "list_attached_user_policies"}
    assert per_user.inventory(fake, "ghost", VirtualDevices(fake), parallel=True) is None
