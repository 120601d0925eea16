# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import re
import threading
import time
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from ansible_collections.iamguard.aws.plugins.module_utils import guards, users, validation
from ansible_collections.iamguard.aws.plugins.module_utils import manifest as manifests
from ansible_collections.iamguard.aws.plugins.module_utils.plans import user as plans_user
from ansible_collections.iamguard.aws.plugins.module_utils.sources import per_user
from ansible_collections.iamguard.aws.plugins.module_utils.client import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.mfa import VirtualDevices
from ansible_collections.iamguard.aws.plugins.module_utils.plan import Action

ACCOUNT = "123456789012"
DATE = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ISO = "2024-01-02T03:04:05+00:00"
CALLER = {"UserId": "AIDAADMIN00000000000", "Account": ACCOUNT, "Arn": "arn:aws:iam::%s:user/ops/admin" % ACCOUNT, "Partition": "aws"}
POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POLICY_2 = "arn:aws:iam::%s:policy/deploy" % ACCOUNT
PASSKEY = "arn:aws:iam::%s:u2f/user/alice/passkey-CRESUIN32BFJPIIGIL2PLPODPM" % ACCOUNT


def mfa_serial(name):
    return "arn:aws:iam::%s:mfa/%s" % (ACCOUNT, name)


def user_id(name):
    return ("AIDA" + re.sub("[^A-Z0-9]", "", name.upper()) + "0" * 20)[:21]


def raw_user(name, **extra):
    raw = {"Path": "/", "UserName": name, "UserId": user_id(name), "Arn": "arn:aws:iam::%s:user/%s" % (ACCOUNT, name), "CreateDate": DATE}
    raw.update(extra)
    return raw


def key_id(n):
    return "AKIAEXAMPLE%09d" % n


def ssh_id(n):
    return "APKAEXAMPLE%09d" % n


def cert_id(n):
    return "CERTEXAMPLEEXAMPLE%06d" % n


def cred_id(n):
    return "ACCAEXAMPLE%09d" % n


def _params(**overrides):
    params = {
        "user_names": [], "user_ids": [], "state": "absent", "access_key_action": "delete", "remove_permissions": None,
        "protected_users": [], "fail_on_protected": False, "manifest_dir": None, "max_workers": 1, "max_conflict_retries": 3,
    }
    params.update(overrides)
    return params


def _options(**overrides):
    return users.purge_options(_params(**overrides))


# --- Stubber helpers: the exact inventory reads of one user --------------------------------


def stub_inventory(stub, name, spec, virtual=()):
    """Stub the reads ``inventory`` makes for ``name``.

    ``virtual``: the raw devices of the account-wide virtual list, read once per VirtualDevices (for typing the
    user's devices and finding leftovers); None when the run has read it already.
    """
    stub.add_response("get_user", {"User": raw_user(name)}, {"UserName": name})
    if spec.get("login"):
        stub.add_response("get_login_profile", {"LoginProfile": {"UserName": name, "CreateDate": DATE, "PasswordResetRequired": False}}, {"UserName": name})
    else:
        stub.add_client_error("get_login_profile", "NoSuchEntity", "Login Profile for User %s cannot be found." % name, 404, expected_params={"UserName": name})
    keys = [{"UserName": name, "AccessKeyId": key, "Status": status, "CreateDate": DATE} for key, status in spec.get("keys", [])]
    stub.add_response("list_access_keys", {"AccessKeyMetadata": keys, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    if spec.get("ssh_invalid"):
        stub.add_client_error("list_ssh_public_keys", "InvalidAction", "not available", 400, expected_params={"UserName": name, "MaxItems": 1000})
    else:
        ssh = [{"UserName": name, "SSHPublicKeyId": key, "Status": "Active", "UploadDate": DATE} for key in spec.get("ssh", [])]
        stub.add_response("list_ssh_public_keys", {"SSHPublicKeys": ssh, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    certs = [{"UserName": name, "CertificateId": cert, "CertificateBody": "-----BEGIN CERTIFICATE-----", "Status": "Active"} for cert in spec.get("certs", [])]
    stub.add_response("list_signing_certificates", {"Certificates": certs, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    creds = [
        {"UserName": name, "Status": "Active", "CreateDate": DATE, "ServiceSpecificCredentialId": cred, "ServiceName": "codecommit.amazonaws.com",
         "ServiceUserName": "%s-at-%s" % (name, ACCOUNT)}
        for cred in spec.get("creds", [])
    ]
    stub.add_response("list_service_specific_credentials", {"ServiceSpecificCredentials": creds}, {"UserName": name, "MaxItems": 1000})
    devices = [{"UserName": name, "SerialNumber": serial, "EnableDate": DATE} for serial in spec.get("mfa", [])]
    stub.add_response("list_mfa_devices", {"MFADevices": devices, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    if virtual is not None:
        stub_virtual(stub, virtual)
    groups = [
        {"Path": "/", "GroupName": group, "GroupId": ("AGPA" + group.upper() + "0" * 16)[:20], "Arn": "arn:aws:iam::%s:group/%s" % (ACCOUNT, group),
         "CreateDate": DATE}
        for group in spec.get("groups", [])
    ]
    stub.add_response("list_groups_for_user", {"Groups": groups, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    stub.add_response("list_user_policies", {"PolicyNames": list(spec.get("inline", [])), "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    attached = [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in spec.get("attached", [])]
    stub.add_response("list_attached_user_policies", {"AttachedPolicies": attached, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})


def stub_virtual(stub, virtual):
    stub.add_response("list_virtual_mfa_devices", {"VirtualMFADevices": list(virtual), "IsTruncated": False}, {"AssignmentStatus": "Any", "MaxItems": 1000})


def stub_missing_user(stub, name):
    stub.add_client_error("get_user", "NoSuchEntity", "The user with name %s cannot be found." % name, 404, expected_params={"UserName": name})


def stub_calls(stub, calls):
    for operation, params in calls:
        stub.add_response(operation, {}, params)


ALICE = {
    "login": True,
    "keys": [(key_id(1), "Active"), (key_id(2), "Inactive")],
    "ssh": [ssh_id(1)],
    "certs": [cert_id(1)],
    "creds": [cred_id(1)],
    "mfa": [mfa_serial("alice"), PASSKEY],
    "groups": ["devs"],
    "inline": ["zeta", "alpha"],
    "attached": [POLICY],
}
ALICE_VIRTUAL = [{"SerialNumber": mfa_serial("alice"), "User": raw_user("alice"), "EnableDate": DATE}]
ALICE_PURGE = [
    ("delete_login_profile", {"UserName": "alice"}),
    ("delete_access_key", {"UserName": "alice", "AccessKeyId": key_id(1)}),
    ("delete_access_key", {"UserName": "alice", "AccessKeyId": key_id(2)}),
    ("delete_ssh_public_key", {"UserName": "alice", "SSHPublicKeyId": ssh_id(1)}),
    ("delete_signing_certificate", {"UserName": "alice", "CertificateId": cert_id(1)}),
    ("delete_service_specific_credential", {"UserName": "alice", "ServiceSpecificCredentialId": cred_id(1)}),
    ("deactivate_mfa_device", {"UserName": "alice", "SerialNumber": mfa_serial("alice")}),
    ("delete_virtual_mfa_device", {"SerialNumber": mfa_serial("alice")}),
    ("deactivate_mfa_device", {"UserName": "alice", "SerialNumber": PASSKEY}),
    ("detach_user_policy", {"UserName": "alice", "PolicyArn": POLICY}),
    ("delete_user_policy", {"UserName": "alice", "PolicyName": "alpha"}),
    ("delete_user_policy", {"UserName": "alice", "PolicyName": "zeta"}),
    ("remove_user_from_group", {"GroupName": "devs", "UserName": "alice"}),
    ("delete_user", {"UserName": "alice"}),
]


# --- options -------------------------------------------------------------------------------


def test_purge_options_good_and_deduplicated():
    options = _options(user_names=["alice", "bob", "alice"], user_ids=[user_id("carol"), user_id("carol")])
    assert options["user_names"] == ["alice", "bob"]
    assert options["user_ids"] == [user_id("carol")]


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({}, "user_names"),
        ({"user_names": ["bad name"]}, "user_names"),
        ({"user_names": ["x" * 65]}, "user_names"),
        ({"user_ids": ["AKIAEXAMPLEEXAMPLE01"]}, "user_ids"),
        ({"user_names": ["alice"], "protected_users": [""]}, "protected_users"),
        ({"user_names": ["alice"], "protected_users": ["  "]}, "protected_users"),
        ({"user_names": ["alice"], "max_workers": 0}, "max_workers"),
        ({"user_names": ["alice"], "max_workers": 33}, "max_workers"),
        ({"user_names": ["alice"], "max_conflict_retries": -1}, "max_conflict_retries"),
        ({"user_names": ["alice"], "max_conflict_retries": 11}, "max_conflict_retries"),
        ({"user_names": ["alice"], "access_key_action": "deactivate"}, "access_key_action"),
        ({"user_names": "x,y"}, "user_names"),
        ({"user_names": ["alice", 7]}, "user_names"),
        ({"user_names": {"alice": 1}}, "user_names"),
        ({"user_names": ["alice"], "remove_permissions": False}, "remove_permissions"),
    ],
)
def test_purge_options_bad(overrides, option):
    with pytest.raises(validation.InvalidInput) as caught:
        users.purge_options(_params(**overrides))
    assert caught.value.option == option


@pytest.mark.parametrize("workers, retries", [(1, 0), (32, 10)])
def test_purge_options_limits_are_inclusive(workers, retries):
    assert users.purge_options(_params(user_names=["a"], max_workers=workers, max_conflict_retries=retries))["max_workers"] == workers


def test_purge_options_disabled_may_deactivate_and_keep_permissions():
    options = _options(user_names=["alice"], state="disabled", access_key_action="deactivate", remove_permissions=False)
    assert options["access_key_action"] == "deactivate"


def test_purge_options_one_string_is_one_name():
    assert _options(user_names="alice")["user_names"] == ["alice"]
    assert _options(user_names=["x,y"])["user_names"] == ["x,y"]  # a legal IAM name, given as a list


def test_purge_options_refuse_a_string_that_would_split():
    with pytest.raises(validation.InvalidInput) as caught:
        _options(user_names="x,y")
    assert "YAML list" in caught.value.message and "Nothing was changed" in caught.value.message


def test_purge_options_manifest_dir(tmp_path):
    assert _options(user_names=["alice"], manifest_dir=str(tmp_path))["manifest_dir"] == str(tmp_path)
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path)
    for bad in (tmp_path / "missing", tmp_path / "file", tmp_path / "link"):
        with pytest.raises(validation.InvalidInput) as caught:
            _options(user_names=["alice"], manifest_dir=str(bad))
        assert caught.value.option == "manifest_dir"


def test_purge_options_manifest_dir_not_writable(tmp_path, monkeypatch):
    monkeypatch.setattr(users.os, "access", lambda path, mode: False)
    with pytest.raises(validation.InvalidInput, match="must be writable"):
        _options(user_names=["alice"], manifest_dir=str(tmp_path))


# --- resolve and guard ----------------------------------------------------------------------


def test_caller_of_user_with_path():
    assert guards.caller_of(CALLER) == {"arn": CALLER["Arn"], "user_id": CALLER["UserId"], "user_name": "admin", "account": ACCOUNT}


def test_caller_of_assumed_role_has_no_user_name():
    identity = {"UserId": "AROAEXAMPLE:session", "Account": ACCOUNT, "Arn": "arn:aws:sts::%s:assumed-role/Admin/session" % ACCOUNT}
    assert guards.caller_of(identity)["user_name"] is None


@pytest.mark.parametrize(
    "name, uid, protected, expected",
    [
        ("root", None, (), "root names the account's root user"),
        ("admin", None, (), "admin is the identity running this task"),
        (None, CALLER["UserId"], (), "AIDAADMIN00000000000 is the identity running this task"),
        ("break-glass-1", None, ("terraform", "break-glass-*"), "protected by protected_users pattern 'break-glass-*'"),
        ("terraform", None, ("terraform",), "protected by protected_users pattern 'terraform'"),
        ("alice", user_id("alice"), ("break-glass-*",), None),
        ("administrator", None, (), None),
    ],
)
def test_guard(name, uid, protected, expected):
    reason = guards.guard(name, uid, guards.caller_of(CALLER), protected)
    if expected is None:
        assert reason is None
    else:
        assert expected in reason


def test_guard_without_caller():
    assert guards.guard("alice", None, None, ()) is None


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


def test_resolve_targets_names_need_no_call(iam, stub):  # pylint: disable=unused-argument
    targets = users.resolve_targets(iam, _options(user_names=["alice", "bob"]))
    assert targets == [{"requested": "alice", "user_name": "alice"}, {"requested": "bob", "user_name": "bob"}]


def test_resolve_targets_ids_share_one_list_users_walk(iam, stub):
    stub.add_response("list_users", {"Users": [raw_user("alice"), raw_user("bob")], "IsTruncated": False}, {"MaxItems": 1000})
    unknown = "AIDAUNKNOWN0000000000"
    targets = users.resolve_targets(iam, _options(user_names=["carol"], user_ids=[user_id("bob"), unknown, user_id("alice")]))
    assert targets == [
        {"requested": "carol", "user_name": "carol"},
        {"requested": user_id("bob"), "user_id": user_id("bob"), "user_name": "bob"},
        {"requested": unknown, "user_id": unknown, "user_name": None},
        {"requested": user_id("alice"), "user_id": user_id("alice"), "user_name": "alice"},
    ]


# --- inventory ---------------------------------------------------------------------------


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


# --- plan (pure) ---------------------------------------------------------------------------


def _facts(name="alice", **overrides):
    facts = {
        "user": {"user_name": name, "user_id": user_id(name), "arn": "arn:aws:iam::%s:user/%s" % (ACCOUNT, name), "path": "/", "create_date": ISO,
                 "tags": {}, "permissions_boundary": None},
        "login_profile": {"create_date": ISO, "password_reset_required": False},
        "access_keys": [
            {"access_key_id": key_id(1), "status": "Active", "create_date": ISO},
            {"access_key_id": key_id(2), "status": "Inactive", "create_date": ISO},
        ],
        "ssh_public_keys": [{"ssh_public_key_id": ssh_id(1), "status": "Active", "upload_date": ISO}],
        "signing_certificates": [{"certificate_id": cert_id(1), "status": "Active", "upload_date": None, "body": "-----BEGIN CERTIFICATE-----"}],
        "service_specific_credentials": [{"service_specific_credential_id": cred_id(1), "service_name": "codecommit.amazonaws.com",
                                          "service_user_name": "x", "status": "Active"}],
        "mfa_devices": [
            {"serial_number": mfa_serial(name), "type": "virtual", "user_name": name, "enable_date": ISO, "assigned": True, "root": False},
            {"serial_number": PASSKEY, "type": "passkey", "user_name": name, "enable_date": ISO, "assigned": True, "root": False},
        ],
        "groups": ["devs"],
        "inline_policies": {"zeta": None, "alpha": None},
        "attached_policies": [POLICY],
    }
    facts.update(overrides)
    return facts


def _calls(actions):
    return [(action.action, action.params) for action in actions]


def test_plan_absent_order_locks_out_first_then_permissions_then_delete():
    assert _calls(plans_user.plan_user(_facts(), "absent")) == ALICE_PURGE


def test_plan_absent_never_deletes_a_passkey_as_virtual():
    actions = plans_user.plan_user(_facts(), "absent")
    assert ("delete_virtual_mfa_device", PASSKEY) not in [(a.action, a.target) for a in actions]


def test_plan_absent_of_bare_user_is_delete_only():
    bare = _facts(login_profile=None, access_keys=[], ssh_public_keys=[], signing_certificates=[], service_specific_credentials=[],
                  mfa_devices=[], groups=[], inline_policies={}, attached_policies=[])
    assert plans_user.plan_user(bare, "absent") == [Action("delete_user", "alice", {"UserName": "alice"})]


def test_plan_disabled_deactivates_active_keys_and_keeps_permissions():
    calls = _calls(plans_user.plan_user(_facts(), "disabled", access_key_action="deactivate"))
    assert ("update_access_key", {"UserName": "alice", "AccessKeyId": key_id(1), "Status": "Inactive"}) in calls
    assert not [c for c in calls if c[0] == "update_access_key" and c[1]["AccessKeyId"] == key_id(2)]
    assert not [c for c in calls if c[0] in ("delete_user", "detach_user_policy", "delete_user_policy", "remove_user_from_group", "delete_access_key")]
    assert calls[0] == ("delete_login_profile", {"UserName": "alice"})


def test_plan_disabled_with_remove_permissions():
    calls = _calls(plans_user.plan_user(_facts(), "disabled", access_key_action="delete", remove_permissions=True))
    assert calls == ALICE_PURGE[:-1]


def test_summarize_and_after():
    facts = _facts()
    before = plans_user.summarize(facts)
    assert before["access_keys"] == ["%s (Active)" % key_id(1), "%s (Inactive)" % key_id(2)]
    assert before["mfa_devices"] == ["%s (virtual)" % mfa_serial("alice"), "%s (passkey)" % PASSKEY]
    assert before["inline_policies"] == ["alpha", "zeta"]
    assert plans_user.summarize(None) == {}
    assert plans_user.facts_after(facts, plans_user.plan_user(facts, "absent")) is None
    after = plans_user.summarize(plans_user.facts_after(facts, plans_user.plan_user(facts, "disabled", access_key_action="deactivate")))
    assert after["login_profile"] is False
    assert after["access_keys"] == ["%s (Inactive)" % key_id(1), "%s (Inactive)" % key_id(2)]
    assert after["ssh_public_keys"] == [] and after["signing_certificates"] == [] and after["service_specific_credentials"] == []
    assert after["mfa_devices"] == []
    assert after["groups"] == ["devs"] and after["attached_policies"] == [POLICY] and after["inline_policies"] == ["alpha", "zeta"]
    assert plans_user.summarize(plans_user.facts_after(facts, [])) == before
    stripped = plans_user.facts_after(facts, plans_user.plan_user(facts, "disabled", remove_permissions=True))
    assert stripped["groups"] == [] and stripped["attached_policies"] == [] and stripped["inline_policies"] == {}
    assert stripped["access_keys"] == [] and stripped["login_profile"] is None


def test_manifest_document_and_path():
    facts = _facts()
    actions = plans_user.plan_user(facts, "absent")
    document = manifests.manifest_document(facts, actions, guards.caller_of(CALLER))
    assert document["format"] == "iamguard.aws/user-manifest/1"
    assert document["written_by"] == CALLER["Arn"]
    assert document["attached_policies"] == [POLICY]
    assert document["mfa_devices"][1] == {"serial_number": PASSKEY, "type": "passkey", "enable_date": ISO}
    assert document["actions"][-1] == {"action": "delete_user", "target": "alice"}
    json.dumps(document)
    path = manifests.manifest_path("/m", ACCOUNT, "alice")
    assert re.match(r"^/m/123456789012-alice-\d{8}T\d{6}Z\.json$", path)


# --- purge over Stubber (max_workers=1 keeps the calls in order) -----------------------------


def _purge(iam, check_mode, **overrides):
    return users.purge(iam, lambda: CALLER, _options(**overrides), check_mode)


def test_purge_check_mode_reports_the_plan_and_changes_nothing(iam, stub):
    stub_inventory(stub, "alice", ALICE, ALICE_VIRTUAL)
    result = _purge(iam, True, user_names=["alice"])
    assert result["changed"] is True
    [alice] = result["users"]
    assert alice["status"] == "deleted"
    assert alice["user_id"] == user_id("alice")
    assert [(a["action"], a["target"]) for a in alice["actions"]][:2] == [("delete_login_profile", "alice"), ("delete_access_key", key_id(1))]
    assert len(alice["actions"]) == len(ALICE_PURGE)
    assert result["diff"]["after"] == {"alice": {}}
    assert result["diff"]["before"]["alice"]["attached_policies"] == [POLICY]
    assert "failure" not in result
    assert result["warnings"] == []


def test_purge_apply_runs_the_same_plan(iam, stub):
    stub_inventory(stub, "alice", ALICE, ALICE_VIRTUAL)
    stub_calls(stub, ALICE_PURGE)
    result = _purge(iam, False, user_names=["alice"])
    assert result["users"][0]["status"] == "deleted"
    assert result["users"][0]["manifest"] is None


def test_purge_absent_user(iam, stub):
    stub_missing_user(stub, "ghost")
    stub_virtual(stub, [])
    result = _purge(iam, False, user_names=["ghost"])
    assert result["changed"] is False
    assert result["users"][0]["status"] == "absent"
    assert "failure" not in result


@pytest.mark.parametrize("check_mode", [True, False])
def test_purge_protected_targets_make_no_call_and_warn(iam, stub, check_mode):  # pylint: disable=unused-argument
    result = _purge(iam, check_mode, user_names=["root", "admin", "break-glass-2"], protected_users=["break-glass-*"])
    assert [u["status"] for u in result["users"]] == ["protected"] * 3
    assert "failure" not in result
    assert len(result["warnings"]) == 3
    assert result["warnings"][0].startswith("root was not touched: root names the account's root user")
    assert "break-glass-2 is protected by protected_users pattern" in result["warnings"][2]
    assert result["changed"] is False


def test_purge_protected_targets_fail_with_fail_on_protected(iam, stub):  # pylint: disable=unused-argument
    result = _purge(iam, True, user_names=["root", "admin"], fail_on_protected=True)
    assert result["failure"].startswith("2 of 2 users could not be deleted: root: ")
    assert len(result["warnings"]) == 2


def test_purge_protected_target_does_not_hide_the_others_plan(iam, stub):
    _stub_bare_inventory(stub, "bob", raw_user("bob"))
    result = _purge(iam, True, user_names=["admin", "bob"])
    assert [u["status"] for u in result["users"]] == ["protected", "deleted"]
    assert "failure" not in result and result["changed"] is True
    assert result["diff"]["before"]["bob"]["arn"].endswith(":user/bob")


def test_purge_caller_found_by_id_is_protected_after_lookup(iam, stub):
    stub.add_response("list_users", {"Users": [raw_user("admin", UserId=CALLER["UserId"])], "IsTruncated": False}, {"MaxItems": 1000})
    result = _purge(iam, False, user_ids=[CALLER["UserId"]])
    assert result["users"][0]["status"] == "protected"
    assert "identity running this task" in result["warnings"][0]


def _stub_bare_inventory(stub, requested, raw):
    """The inventory reads of a user without dependents, asked for as ``requested``."""
    stub.add_response("get_user", {"User": raw}, {"UserName": requested})
    stub.add_client_error("get_login_profile", "NoSuchEntity", "", 404, expected_params={"UserName": requested})
    for operation, key in (("list_access_keys", "AccessKeyMetadata"), ("list_ssh_public_keys", "SSHPublicKeys"),
                           ("list_signing_certificates", "Certificates"), ("list_service_specific_credentials", "ServiceSpecificCredentials"),
                           ("list_mfa_devices", "MFADevices"), ("list_groups_for_user", "Groups"), ("list_user_policies", "PolicyNames"),
                           ("list_attached_user_policies", "AttachedPolicies")):
        stub.add_response(operation, {key: []}, {"UserName": requested, "MaxItems": 1000})
        if operation == "list_mfa_devices":
            stub_virtual(stub, [])


def test_purge_reports_and_deletes_the_user_as_iam_spells_it(iam, stub):
    _stub_bare_inventory(stub, "ALICE", raw_user("alice"))
    result = _purge(iam, True, user_names=["ALICE"])
    assert result["users"][0]["requested"] == "ALICE"
    assert result["users"][0]["user_name"] == "alice"
    assert result["users"][0]["actions"] == [{"action": "delete_user", "target": "alice"}]


def test_purge_caller_named_in_another_case_is_protected_by_id(iam, stub):
    # IAM names ignore case: "ADMIN" is the caller "admin", refused before any call is made for it.
    result = _purge(iam, False, user_names=["ADMIN"])
    assert result["users"][0]["status"] == "protected"
    assert result["users"][0]["actions"] == []
    assert "identity running this task" in result["warnings"][0]


def test_purge_protected_pattern_ignores_name_case(iam, stub):
    # IAM user names are not case-sensitive: "Break-Glass-1" is user break-glass-1, refused with no call made.
    result = _purge(iam, True, user_names=["Break-Glass-1"], protected_users=["break-glass-*"])
    assert result["users"][0]["status"] == "protected"
    assert result["users"][0]["actions"] == []


def test_purge_failure_of_one_user_does_not_stop_the_others(iam, stub):
    stub.add_client_error("get_user", "AccessDenied", "denied", 403, expected_params={"UserName": "alice"})
    stub_inventory(stub, "bob", {})
    stub.add_response("delete_user", {}, {"UserName": "bob"})
    result = _purge(iam, False, user_names=["alice", "bob"])
    assert [u["status"] for u in result["users"]] == ["failed", "deleted"]
    assert result["failure"] == "1 of 2 users could not be deleted: alice: GetUser alice failed: AccessDenied: denied"
    assert result["changed"] is True


def test_purge_retries_delete_conflict_with_a_new_plan(iam, stub):
    stub_inventory(stub, "bob", {"attached": [POLICY]})
    stub.add_response("detach_user_policy", {}, {"UserName": "bob", "PolicyArn": POLICY})
    stub.add_client_error("delete_user", "DeleteConflict", "Cannot delete entity, must delete access keys first.", 409, expected_params={"UserName": "bob"})
    stub_inventory(stub, "bob", {"keys": [(key_id(9), "Active")]})
    stub.add_response("delete_access_key", {}, {"UserName": "bob", "AccessKeyId": key_id(9)})
    stub.add_response("delete_user", {}, {"UserName": "bob"})
    result = _purge(iam, False, user_names=["bob"])
    assert result["users"][0]["status"] == "deleted"
    assert [(a["action"], a["target"]) for a in result["users"][0]["actions"]] == [
        ("detach_user_policy", POLICY), ("delete_user", "bob"), ("delete_access_key", key_id(9)),
    ]


def test_purge_conflict_retries_are_bounded(iam, stub):
    stub_inventory(stub, "bob", {})
    stub.add_client_error("delete_user", "DeleteConflict", "must remove tokens", 409, expected_params={"UserName": "bob"})
    stub_inventory(stub, "bob", {})
    stub.add_client_error("delete_user", "DeleteConflict", "must remove tokens", 409, expected_params={"UserName": "bob"})
    result = _purge(iam, False, user_names=["bob"], max_conflict_retries=1)
    assert result["users"][0]["status"] == "failed"
    assert "still in conflict after 1 re-inventories" in result["users"][0]["error"]


def test_purge_conflict_without_retries(iam, stub):
    stub_inventory(stub, "bob", {})
    stub.add_client_error("delete_user", "DeleteConflict", "must remove tokens", 409, expected_params={"UserName": "bob"})
    result = _purge(iam, False, user_names=["bob"], max_conflict_retries=0)
    assert result["users"][0]["status"] == "failed"


class _ManifestOnDisk:
    """Records, at the first destructive call, whether the manifest was already on disk."""

    def __init__(self, folder):
        self.folder = folder
        self.seen = None

    def __call__(self, **_kwargs):
        if self.seen is None:
            self.seen = sorted(os.listdir(self.folder))


def test_purge_writes_manifest_before_the_first_destructive_call(iam, stub, tmp_path):
    stub_inventory(stub, "bob", {"login": True})
    stub.add_response("delete_login_profile", {}, {"UserName": "bob"})
    stub.add_response("delete_user", {}, {"UserName": "bob"})
    probe = _ManifestOnDisk(str(tmp_path))
    iam.meta.events.register("before-parameter-build.iam.DeleteLoginProfile", probe)
    result = _purge(iam, False, user_names=["bob"], manifest_dir=str(tmp_path))
    manifest = result["users"][0]["manifest"]
    assert probe.seen == [os.path.basename(manifest)]
    assert oct(os.stat(manifest).st_mode & 0o777) == oct(0o600)
    with open(manifest, encoding="utf-8") as handle:
        document = json.load(handle)
    assert document["login_profile"]["create_date"] == ISO
    assert document["actions"] == [{"action": "delete_login_profile", "target": "bob"}, {"action": "delete_user", "target": "bob"}]


def test_purge_check_mode_writes_no_manifest(iam, stub, tmp_path):
    stub_inventory(stub, "bob", {"login": True})
    _purge(iam, True, user_names=["bob"], manifest_dir=str(tmp_path))
    assert os.listdir(str(tmp_path)) == []


def test_manifest_keeps_dependents_removed_before_a_conflict(iam, stub, tmp_path):
    # Fails today: after DeleteConflict the manifest is rewritten (force=True) from the second
    # inventory only, so the login profile and policy removed in the first pass vanish from it.
    stub_inventory(stub, "bob", {"login": True, "attached": [POLICY_2]})
    stub.add_response("delete_login_profile", {}, {"UserName": "bob"})
    stub.add_response("detach_user_policy", {}, {"UserName": "bob", "PolicyArn": POLICY_2})
    stub.add_client_error("delete_user", "DeleteConflict", "must delete access keys first", 409, expected_params={"UserName": "bob"})
    stub_inventory(stub, "bob", {"keys": [(key_id(9), "Active")]})
    stub.add_response("get_access_key_last_used", {"AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}, {"AccessKeyId": key_id(9)})
    stub.add_response("delete_access_key", {}, {"UserName": "bob", "AccessKeyId": key_id(9)})
    stub.add_response("delete_user", {}, {"UserName": "bob"})
    result = _purge(iam, False, user_names=["bob"], manifest_dir=str(tmp_path))
    assert result["users"][0]["status"] == "deleted"
    text = "".join((tmp_path / name).read_text() for name in os.listdir(str(tmp_path)))
    assert key_id(9) in text
    assert POLICY_2 in text
    assert '"password_reset_required": false' in text


# --- purge over a small in-memory IAM: outcome, threads, plan == apply -------------------------


def _error(code, message, operation):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def _assert_largest_page(max_items):
    assert max_items == 1000, "every IAM list asks for its largest page"


class _Pages:
    def __init__(self, method):
        self._method = method

    def paginate(self, **params):
        return [self._method(**params)]


class _FakeIam:
    """Just enough IAM for purge: users with dependents, MFA devices, DeleteConflict, call log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = {}
        self.virtual = {}  # serial -> user name or None
        self.calls = []
        self.on_delete_user = None
        self.in_flight = 0
        self.peak = 0
        self.meta = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta  # the API model

    def add_user(self, name, keys=(), virtual=(), other_devices=(), attached=()):
        self.users[name] = {"keys": list(keys), "devices": list(virtual) + list(other_devices), "attached": list(attached)}
        for serial in virtual:
            self.virtual[serial] = name

    def _log(self, operation, params):
        with self.lock:
            self.calls.append((operation, params))

    def _user(self, name, operation):
        if name not in self.users:
            raise _error("NoSuchEntity", "The user with name %s cannot be found." % name, operation)
        return self.users[name]

    def can_paginate(self, operation):
        return operation != "list_service_specific_credentials"

    def get_paginator(self, operation):
        return _Pages(getattr(self, operation))

    def get_user(self, UserName):
        self._log("get_user", {"UserName": UserName})
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(0.01)  # long enough for the pool's other workers to overlap
        with self.lock:
            self.in_flight -= 1
        self._user(UserName, "GetUser")
        return {"User": raw_user(UserName)}

    def get_login_profile(self, UserName):
        self._log("get_login_profile", {"UserName": UserName})
        raise _error("NoSuchEntity", "no login profile", "GetLoginProfile")

    def list_access_keys(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        self._log("list_access_keys", {"UserName": UserName})
        return {"AccessKeyMetadata": [{"AccessKeyId": key, "Status": "Active"} for key in self._user(UserName, "ListAccessKeys")["keys"]]}

    def _empty(self, operation, key, UserName):
        self._log(operation, {"UserName": UserName})
        self._user(UserName, operation)
        return {key: []}

    def list_ssh_public_keys(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        return self._empty("list_ssh_public_keys", "SSHPublicKeys", UserName)

    def list_signing_certificates(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        return self._empty("list_signing_certificates", "Certificates", UserName)

    def list_service_specific_credentials(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        return self._empty("list_service_specific_credentials", "ServiceSpecificCredentials", UserName)

    def list_groups_for_user(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        return self._empty("list_groups_for_user", "Groups", UserName)

    def list_user_policies(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        return self._empty("list_user_policies", "PolicyNames", UserName)

    def list_attached_user_policies(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        self._log("list_attached_user_policies", {"UserName": UserName})
        return {"AttachedPolicies": [{"PolicyArn": arn} for arn in self._user(UserName, "ListAttachedUserPolicies")["attached"]]}

    def list_mfa_devices(self, UserName, MaxItems):
        _assert_largest_page(MaxItems)
        self._log("list_mfa_devices", {"UserName": UserName})
        return {"MFADevices": [{"UserName": UserName, "SerialNumber": s, "EnableDate": DATE} for s in self._user(UserName, "ListMFADevices")["devices"]]}

    def list_virtual_mfa_devices(self, AssignmentStatus, MaxItems):
        _assert_largest_page(MaxItems)
        self._log("list_virtual_mfa_devices", {"AssignmentStatus": AssignmentStatus})
        with self.lock:
            return {"VirtualMFADevices": [
                {"SerialNumber": s, "User": raw_user(owner), "EnableDate": DATE} if owner else {"SerialNumber": s} for s, owner in self.virtual.items()
            ]}

    def delete_access_key(self, UserName, AccessKeyId):
        self._log("delete_access_key", {"UserName": UserName, "AccessKeyId": AccessKeyId})
        self._user(UserName, "DeleteAccessKey")["keys"].remove(AccessKeyId)

    def detach_user_policy(self, UserName, PolicyArn):
        self._log("detach_user_policy", {"UserName": UserName, "PolicyArn": PolicyArn})
        self._user(UserName, "DetachUserPolicy")["attached"].remove(PolicyArn)

    def deactivate_mfa_device(self, UserName, SerialNumber):
        self._log("deactivate_mfa_device", {"UserName": UserName, "SerialNumber": SerialNumber})
        self._user(UserName, "DeactivateMFADevice")["devices"].remove(SerialNumber)
        with self.lock:
            if SerialNumber in self.virtual:
                self.virtual[SerialNumber] = None

    def delete_virtual_mfa_device(self, SerialNumber):
        self._log("delete_virtual_mfa_device", {"SerialNumber": SerialNumber})
        with self.lock:
            if SerialNumber not in self.virtual:
                raise _error("NoSuchEntity", "MFA Device with serial number %s does not exist." % SerialNumber, "DeleteVirtualMFADevice")
            if self.virtual[SerialNumber]:
                raise _error("DeleteConflict", "MFA device is still in use", "DeleteVirtualMFADevice")
            del self.virtual[SerialNumber]

    def delete_user(self, UserName):
        self._log("delete_user", {"UserName": UserName})
        hook, self.on_delete_user = self.on_delete_user, None
        if hook:
            hook(self, UserName)
        user = self._user(UserName, "DeleteUser")
        if user["keys"] or user["devices"] or user["attached"]:
            raise _error("DeleteConflict", "Cannot delete entity, must remove dependents first.", "DeleteUser")
        with self.lock:
            del self.users[UserName]

    def mutations(self):
        return [(op, params) for op, params in self.calls if not op.startswith(("get_", "list_"))]


def test_purge_plan_equals_apply_and_leaves_no_orphan():
    fake = _FakeIam()
    fake.add_user("alice", keys=[key_id(1)], virtual=[mfa_serial("alice")], other_devices=[PASSKEY, "GAHT12345678"], attached=[POLICY])
    fake.add_user("bob", virtual=[mfa_serial("bob")])
    options = _options(user_names=["alice", "bob"])
    planned = users.purge(fake, lambda: CALLER, options, True)
    assert fake.mutations() == []
    applied = users.purge(fake, lambda: CALLER, _options(user_names=["alice", "bob"]), False)
    assert [u["actions"] for u in applied["users"]] == [u["actions"] for u in planned["users"]]
    assert [(op, p.get("SerialNumber") or p.get("AccessKeyId") or p.get("PolicyArn") or p["UserName"]) for op, p in fake.mutations()] == [
        (a["action"], a["target"]) for u in planned["users"] for a in u["actions"]
    ]
    assert fake.users == {}
    assert fake.virtual == {}
    assert not [p for op, p in fake.mutations() if op == "delete_virtual_mfa_device" and p["SerialNumber"] in (PASSKEY, "GAHT12345678")]


def test_purge_many_users_in_threads_reads_the_virtual_list_once():
    fake = _FakeIam()
    names = ["user%02d" % n for n in range(12)]
    for name in names:
        fake.add_user(name, virtual=[mfa_serial(name)], keys=[key_id(names.index(name))])
    result = users.purge(fake, lambda: CALLER, _options(user_names=names, max_workers=6), False)
    assert [u["status"] for u in result["users"]] == ["deleted"] * 12
    assert [u["requested"] for u in result["users"]] == names
    assert [call[0] for call in fake.calls].count("list_virtual_mfa_devices") == 1
    assert 1 < fake.peak <= 6
    assert fake.users == {} and fake.virtual == {}


def test_purge_conflict_from_a_new_virtual_device_leaves_no_orphan():
    # Fails today: the re-inventory after DeleteConflict types devices with the account-wide list read
    # before the conflict, so a virtual device enabled meanwhile is taken for hardware: deactivated,
    # never deleted, and left behind as an orphan (S1).
    fake = _FakeIam()
    fake.add_user("dave", virtual=[mfa_serial("dave")])

    def enrol_meanwhile(iam_state, name):
        iam_state.users[name]["devices"].append(mfa_serial("dave-new"))
        iam_state.virtual[mfa_serial("dave-new")] = name

    fake.on_delete_user = enrol_meanwhile
    result = users.purge(fake, lambda: CALLER, _options(user_names=["dave"]), False)
    assert result["users"][0]["status"] == "deleted"
    assert fake.users == {}
    assert fake.virtual == {}


# --- issue 12: leftovers of a stopped run, failures that are not IamGuardError, the MFA hint ---------


def test_rerun_after_a_stop_between_deactivate_and_delete_removes_the_device():
    # Fails before the fix: the deactivated device no longer shows through the user, so the
    # rerun deleted the user and left mfa/erin behind as an orphan.
    fake = _FakeIam()
    fake.add_user("erin", virtual=[mfa_serial("erin")])
    fake.deactivate_mfa_device(UserName="erin", SerialNumber=mfa_serial("erin"))  # the run stopped here
    fake.calls.clear()
    planned = users.purge(fake, lambda: CALLER, _options(user_names=["erin"]), True)
    assert planned["users"][0]["actions"] == [{"action": "delete_virtual_mfa_device", "target": mfa_serial("erin")},
                                              {"action": "delete_user", "target": "erin"}]
    assert planned["diff"]["before"]["erin"]["mfa_devices"] == ["%s (virtual)" % mfa_serial("erin")]
    applied = users.purge(fake, lambda: CALLER, _options(user_names=["erin"]), False)
    assert applied["users"][0]["actions"] == planned["users"][0]["actions"]
    assert fake.users == {} and fake.virtual == {}


def test_leftover_of_a_user_already_deleted_is_removed_and_reported():
    # Fails before the fix: a user gone was "absent" with nothing done, and mfa/frank stayed.
    fake = _FakeIam()
    fake.virtual[mfa_serial("Frank")] = None  # frank was deleted by the stopped run; the device is named in another case
    fake.virtual[mfa_serial("frankie")] = None  # someone else's
    planned = users.purge(fake, lambda: CALLER, _options(user_names=["frank"]), True)
    assert planned["changed"] is True and fake.mutations() == []
    [frank] = planned["users"]
    assert frank["status"] == "absent"
    assert frank["actions"] == [{"action": "delete_virtual_mfa_device", "target": mfa_serial("Frank")}]
    applied = users.purge(fake, lambda: CALLER, _options(user_names=["frank"]), False)
    assert applied["users"][0]["actions"] == frank["actions"]
    assert list(fake.virtual) == [mfa_serial("frankie")]
    again = users.purge(fake, lambda: CALLER, _options(user_names=["frank"]), False)
    assert again["changed"] is False and again["users"][0]["status"] == "absent"


def _write_manifest(folder, user_name, serials, stamp="20261124T101500Z"):
    document = {"format": "iamguard.aws/user-manifest/1", "user": {"user_name": user_name},
                "mfa_devices": [{"serial_number": serial, "type": "virtual", "enable_date": ISO} for serial in serials]}
    path = os.path.join(folder, "%s-%s-%s.json" % (ACCOUNT, user_name, stamp))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    return path


def test_manifest_serials_of_a_user(tmp_path):
    _write_manifest(str(tmp_path), "gina", [mfa_serial("phone-of-gina")])
    _write_manifest(str(tmp_path), "gina-2", [mfa_serial("phone-of-gina-2")])
    _write_manifest(str(tmp_path), "Gina", [mfa_serial("tablet")], stamp="20261125T080000Z")
    (tmp_path / ("%s-gina-20261125T090000Z.json" % ACCOUNT)).write_text("{not json")
    (tmp_path / "notes.txt").write_text("gina")
    assert manifests.manifest_serials(str(tmp_path), ACCOUNT, "gina") == {mfa_serial("phone-of-gina"), mfa_serial("tablet")}
    assert manifests.manifest_serials(str(tmp_path), "210987654321", "gina") == set()
    assert manifests.manifest_serials(None, ACCOUNT, "gina") == set()


def test_leftover_named_only_in_an_earlier_manifest_is_removed(tmp_path):
    fake = _FakeIam()
    fake.add_user("gina", attached=[POLICY])
    fake.virtual[mfa_serial("phone-of-gina")] = None  # named by the manifest of the stopped run, not after the user
    fake.virtual[mfa_serial("phone-of-hal")] = None
    _write_manifest(str(tmp_path), "gina", [mfa_serial("phone-of-gina")])
    result = users.purge(fake, lambda: CALLER, _options(user_names=["gina"], manifest_dir=str(tmp_path)), False)
    assert result["users"][0]["error"] is None, result
    assert [a["action"] for a in result["users"][0]["actions"]] == ["delete_virtual_mfa_device", "detach_user_policy", "delete_user"]
    assert list(fake.virtual) == [mfa_serial("phone-of-hal")]
    manifest = json.load(open(result["users"][0]["manifest"]))
    assert [d["serial_number"] for d in manifest["mfa_devices"]] == [mfa_serial("phone-of-gina")]  # recorded before its removal


def test_an_unexpected_exception_fails_only_that_user():
    # Fails before the fix: the KeyError escaped pool.map, the module crashed and the
    # results of the users already deleted were lost.
    fake = _FakeIam()
    for name in ("ivy", "jack", "kate"):
        fake.add_user(name, keys=[key_id(len(name))])
    answer = fake.list_access_keys

    def malformed_for_jack(UserName, MaxItems):
        if UserName == "jack":
            return {"AccessKeyMetadata": [{"Status": "Active"}]}  # no AccessKeyId
        return answer(UserName=UserName, MaxItems=MaxItems)

    fake.list_access_keys = malformed_for_jack
    result = users.purge(fake, lambda: CALLER, _options(user_names=["ivy", "jack", "kate"], max_workers=3), False)
    statuses = {user["requested"]: user["status"] for user in result["users"]}
    assert statuses == {"ivy": "deleted", "jack": "failed", "kate": "deleted"}
    jack = result["users"][1]
    assert jack["error"] == "unexpected error while purging jack: KeyError: 'AccessKeyId'"
    assert result["failure"].startswith("1 of 3 users could not be deleted: jack: unexpected error")
    assert sorted(fake.users) == ["jack"]


def _deny_deactivation(UserName, SerialNumber):
    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::%s:user/ops/admin is not authorized to perform: "
                                 "iam:DeactivateMFADevice on resource: user %s with an explicit deny in an identity-based policy" % (ACCOUNT, UserName)}},
                      "DeactivateMFADevice")


@pytest.mark.parametrize("lacks_mfa, hinted", [(True, True), (False, False)])
def test_batch_gives_the_mfa_hint_when_the_session_lacks_mfa(lacks_mfa, hinted):
    fake = _FakeIam()
    fake.add_user("lena", virtual=[mfa_serial("lena")])
    fake.add_user("mike", virtual=[mfa_serial("mike")])
    fake.deactivate_mfa_device = _deny_deactivation
    asked = []

    def session_lacks_mfa():
        asked.append(True)
        return lacks_mfa

    result = users.purge(fake, lambda: CALLER, _options(user_names=["lena", "mike"], max_workers=2), False, session_lacks_mfa)
    for user in result["users"]:
        assert user["status"] == "failed"
        assert user["error"].count("with an explicit deny") == 1
        assert ("get-session-token" in user["error"]) is hinted
    assert asked == [True]  # worked out once per run


def test_leftover_of_a_user_already_deleted_is_in_a_manifest_before_its_removal(tmp_path):
    fake = _FakeIam()
    fake.virtual[mfa_serial("olga")] = None
    removed = []

    def delete_and_check(SerialNumber):
        written = [json.load(open(os.path.join(str(tmp_path), name))) for name in os.listdir(str(tmp_path))]
        assert [[d["serial_number"] for d in document["mfa_devices"]] for document in written] == [[SerialNumber]]
        removed.append(SerialNumber)
        del fake.virtual[SerialNumber]

    fake.delete_virtual_mfa_device = delete_and_check
    result = users.purge(fake, lambda: CALLER, _options(user_names=["olga"], manifest_dir=str(tmp_path)), False)
    olga = result["users"][0]
    assert olga["status"] == "absent" and removed == [mfa_serial("olga")]
    document = json.load(open(olga["manifest"]))
    assert document["user"]["user_name"] == "olga" and document["user"]["arn"] is None
    assert document["actions"] == [{"action": "delete_virtual_mfa_device", "target": mfa_serial("olga")}]
