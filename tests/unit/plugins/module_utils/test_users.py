# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import users, validation
from tests.unit.plugins.module_utils.iam_doubles import (
    ISO, CALLER, POLICY, POLICY_2, user_id, raw_user, key_id, purge_params, purge_options, stub_inventory, stub_virtual, stub_missing_user,
    stub_calls, ALICE, ALICE_VIRTUAL, ALICE_PURGE,
)


def test_purge_options_good_and_deduplicated():
    options = purge_options(user_names=["alice", "bob", "alice"], user_ids=[user_id("carol"), user_id("carol")])
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
        ({"user_names": ["alice"], "report_wait_seconds": 3601}, "report_wait_seconds"),
        ({"user_names": ["alice"], "state": "disabled", "inventory_source": "account"}, "inventory_source"),
        ({"user_names": ["alice"], "access_key_action": "deactivate"}, "access_key_action"),
        ({"user_names": "x,y"}, "user_names"),
        ({"user_names": ["alice", 7]}, "user_names"),
        ({"user_names": {"alice": 1}}, "user_names"),
        ({"user_names": ["alice"], "remove_permissions": False}, "remove_permissions"),
    ],
)
def test_purge_options_bad(overrides, option):
    with pytest.raises(validation.InvalidInput) as caught:
        users.purge_options(purge_params(**overrides))
    assert caught.value.option == option


@pytest.mark.parametrize("workers, retries", [(1, 0), (32, 10)])
def test_purge_options_limits_are_inclusive(workers, retries):
    assert users.purge_options(purge_params(user_names=["a"], max_workers=workers, max_conflict_retries=retries))["max_workers"] == workers


def test_purge_options_disabled_may_deactivate_and_keep_permissions():
    options = purge_options(user_names=["alice"], state="disabled", access_key_action="deactivate", remove_permissions=False)
    assert options["access_key_action"] == "deactivate"


def test_purge_options_one_string_is_one_name():
    assert purge_options(user_names="alice")["user_names"] == ["alice"]
    assert purge_options(user_names=["x,y"])["user_names"] == ["x,y"]  # a legal IAM name, given as a list


def test_purge_options_refuse_a_string_that_would_split():
    with pytest.raises(validation.InvalidInput) as caught:
        purge_options(user_names="x,y")
    assert "YAML list" in caught.value.message and "Nothing was changed" in caught.value.message


def test_purge_options_manifest_dir(tmp_path):
    assert purge_options(user_names=["alice"], manifest_dir=str(tmp_path))["manifest_dir"] == str(tmp_path)
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path)
    for bad in (tmp_path / "missing", tmp_path / "file", tmp_path / "link"):
        with pytest.raises(validation.InvalidInput) as caught:
            purge_options(user_names=["alice"], manifest_dir=str(bad))
        assert caught.value.option == "manifest_dir"


def test_purge_options_manifest_dir_not_writable(tmp_path, monkeypatch):
    monkeypatch.setattr(users.os, "access", lambda path, mode: False)
    with pytest.raises(validation.InvalidInput, match="must be writable"):
        purge_options(user_names=["alice"], manifest_dir=str(tmp_path))


def test_resolve_targets_names_need_no_call(iam, stub):  # pylint: disable=unused-argument
    targets = users.resolve_targets(iam, purge_options(user_names=["alice", "bob"]))
    assert targets == [{"requested": "alice", "user_name": "alice"}, {"requested": "bob", "user_name": "bob"}]


def test_resolve_targets_ids_share_one_list_users_walk(iam, stub):
    stub.add_response("list_users", {"Users": [raw_user("alice"), raw_user("bob")], "IsTruncated": False}, {"MaxItems": 1000})
    unknown = "AIDAUNKNOWN0000000000"
    targets = users.resolve_targets(iam, purge_options(user_names=["carol"], user_ids=[user_id("bob"), unknown, user_id("alice")]))
    assert targets == [
        {"requested": "carol", "user_name": "carol"},
        {"requested": user_id("bob"), "user_id": user_id("bob"), "user_name": "bob"},
        {"requested": unknown, "user_id": unknown, "user_name": None},
        {"requested": user_id("alice"), "user_id": user_id("alice"), "user_name": "alice"},
    ]


def _purge(iam, check_mode, **overrides):
    return users.purge(iam, lambda: CALLER, purge_options(**overrides), check_mode)


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
    # Regression: a manifest rewritten after DeleteConflict from the second inventory only would
    # lose the login profile and policy removed in the first pass.
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
