# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest
from botocore.exceptions import ClientError

from ansible_collections.iamguard.aws.plugins.module_utils import users
from tests.unit.plugins.module_utils.iam_doubles import ACCOUNT, CALLER, POLICY, PASSKEY, mfa_serial, key_id, purge_options, FakeIam, write_manifest


def test_purge_plan_equals_apply_and_leaves_no_orphan():
    fake = FakeIam()
    fake.add_user("alice", keys=[key_id(1)], virtual=[mfa_serial("alice")], other_devices=[PASSKEY, "GAHT12345678"], attached=[POLICY])
    fake.add_user("bob", virtual=[mfa_serial("bob")])
    options = purge_options(user_names=["alice", "bob"])
    planned = users.purge(fake, lambda: CALLER, options, True)
    assert fake.mutations() == []
    applied = users.purge(fake, lambda: CALLER, purge_options(user_names=["alice", "bob"]), False)
    assert [u["actions"] for u in applied["users"]] == [u["actions"] for u in planned["users"]]
    assert [(op, p.get("SerialNumber") or p.get("AccessKeyId") or p.get("PolicyArn") or p["UserName"]) for op, p in fake.mutations()] == [
        (a["action"], a["target"]) for u in planned["users"] for a in u["actions"]
    ]
    assert fake.users == {}
    assert fake.virtual == {}
    assert not [p for op, p in fake.mutations() if op == "delete_virtual_mfa_device" and p["SerialNumber"] in (PASSKEY, "GAHT12345678")]


def test_purge_many_users_in_threads_reads_the_virtual_list_once():
    fake = FakeIam()
    names = ["user%02d" % n for n in range(12)]
    for name in names:
        fake.add_user(name, virtual=[mfa_serial(name)], keys=[key_id(names.index(name))])
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=names, max_workers=6, inventory_source="per_user"), False)
    assert [u["status"] for u in result["users"]] == ["deleted"] * 12
    assert [u["requested"] for u in result["users"]] == names
    assert [call[0] for call in fake.calls].count("list_virtual_mfa_devices") == 1
    assert 1 < fake.peak <= 6
    assert fake.users == {} and fake.virtual == {}


def test_purge_conflict_from_a_new_virtual_device_leaves_no_orphan():
    # Regression: a re-inventory after DeleteConflict that typed devices with the account-wide list read
    # before the conflict took a virtual device enabled meanwhile for hardware: deactivated, never
    # deleted, and left behind as an orphan (S1).
    fake = FakeIam()
    fake.add_user("dave", virtual=[mfa_serial("dave")])

    def enrol_meanwhile(iam_state, name):
        iam_state.users[name]["devices"].append(mfa_serial("dave-new"))
        iam_state.virtual[mfa_serial("dave-new")] = name

    fake.on_delete_user = enrol_meanwhile
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=["dave"]), False)
    assert result["users"][0]["status"] == "deleted"
    assert fake.users == {}
    assert fake.virtual == {}


def test_rerun_after_a_stop_between_deactivate_and_delete_removes_the_device():
    # Fails before the fix: the deactivated device no longer shows through the user, so the
    # rerun deleted the user and left mfa/erin behind as an orphan.
    fake = FakeIam()
    fake.add_user("erin", virtual=[mfa_serial("erin")])
    fake.deactivate_mfa_device(UserName="erin", SerialNumber=mfa_serial("erin"))  # the run stopped here
    fake.calls.clear()
    planned = users.purge(fake, lambda: CALLER, purge_options(user_names=["erin"]), True)
    assert planned["users"][0]["actions"] == [{"action": "delete_virtual_mfa_device", "target": mfa_serial("erin")},
                                              {"action": "delete_user", "target": "erin"}]
    assert planned["diff"]["before"]["erin"]["mfa_devices"] == ["%s (virtual)" % mfa_serial("erin")]
    applied = users.purge(fake, lambda: CALLER, purge_options(user_names=["erin"]), False)
    assert applied["users"][0]["actions"] == planned["users"][0]["actions"]
    assert fake.users == {} and fake.virtual == {}


def test_leftover_of_a_user_already_deleted_is_removed_and_reported():
    # Fails before the fix: a user gone was "absent" with nothing done, and mfa/frank stayed.
    fake = FakeIam()
    fake.virtual[mfa_serial("Frank")] = None  # frank was deleted by the stopped run; the device is named in another case
    fake.virtual[mfa_serial("frankie")] = None  # someone else's
    planned = users.purge(fake, lambda: CALLER, purge_options(user_names=["frank"]), True)
    assert planned["changed"] is True and fake.mutations() == []
    [frank] = planned["users"]
    assert frank["status"] == "absent"
    assert frank["actions"] == [{"action": "delete_virtual_mfa_device", "target": mfa_serial("Frank")}]
    applied = users.purge(fake, lambda: CALLER, purge_options(user_names=["frank"]), False)
    assert applied["users"][0]["actions"] == frank["actions"]
    assert list(fake.virtual) == [mfa_serial("frankie")]
    again = users.purge(fake, lambda: CALLER, purge_options(user_names=["frank"]), False)
    assert again["changed"] is False and again["users"][0]["status"] == "absent"


def test_leftover_named_only_in_an_earlier_manifest_is_removed(tmp_path):
    fake = FakeIam()
    fake.add_user("gina", attached=[POLICY])
    fake.virtual[mfa_serial("phone-of-gina")] = None  # named by the manifest of the stopped run, not after the user
    fake.virtual[mfa_serial("phone-of-hal")] = None
    write_manifest(str(tmp_path), "gina", [mfa_serial("phone-of-gina")])
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=["gina"], manifest_dir=str(tmp_path)), False)
    assert result["users"][0]["error"] is None, result
    assert [a["action"] for a in result["users"][0]["actions"]] == ["delete_virtual_mfa_device", "detach_user_policy", "delete_user"]
    assert list(fake.virtual) == [mfa_serial("phone-of-hal")]
    manifest = json.load(open(result["users"][0]["manifest"]))
    assert [d["serial_number"] for d in manifest["mfa_devices"]] == [mfa_serial("phone-of-gina")]  # recorded before its removal


def test_an_unexpected_exception_fails_only_that_user():
    # Fails before the fix: the KeyError escaped pool.map, the module crashed and the
    # results of the users already deleted were lost.
    fake = FakeIam()
    for name in ("ivy", "jack", "kate"):
        fake.add_user(name, keys=[key_id(len(name))])
    answer = fake.list_access_keys

    def malformed_for_jack(UserName, MaxItems):
        if UserName == "jack":
            return {"AccessKeyMetadata": [{"Status": "Active"}]}  # no AccessKeyId
        return answer(UserName=UserName, MaxItems=MaxItems)

    fake.list_access_keys = malformed_for_jack
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=["ivy", "jack", "kate"], max_workers=3), False)
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
    fake = FakeIam()
    fake.add_user("lena", virtual=[mfa_serial("lena")])
    fake.add_user("mike", virtual=[mfa_serial("mike")])
    fake.deactivate_mfa_device = _deny_deactivation
    asked = []

    def session_lacks_mfa():
        asked.append(True)
        return lacks_mfa

    result = users.purge(fake, lambda: CALLER, purge_options(user_names=["lena", "mike"], max_workers=2), False, session_lacks_mfa)
    for user in result["users"]:
        assert user["status"] == "failed"
        assert user["error"].count("with an explicit deny") == 1
        assert ("get-session-token" in user["error"]) is hinted
    assert asked == [True]  # worked out once per run


def test_leftover_of_a_user_already_deleted_is_in_a_manifest_before_its_removal(tmp_path):
    fake = FakeIam()
    fake.virtual[mfa_serial("olga")] = None
    removed = []

    def delete_and_check(SerialNumber):
        written = [json.load(open(os.path.join(str(tmp_path), name))) for name in os.listdir(str(tmp_path))]
        assert [[d["serial_number"] for d in document["mfa_devices"]] for document in written] == [[SerialNumber]]
        removed.append(SerialNumber)
        del fake.virtual[SerialNumber]

    fake.delete_virtual_mfa_device = delete_and_check
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=["olga"], manifest_dir=str(tmp_path)), False)
    olga = result["users"][0]
    assert olga["status"] == "absent" and removed == [mfa_serial("olga")]
    document = json.load(open(olga["manifest"]))
    assert document["user"]["user_name"] == "olga" and document["user"]["arn"] is None
    assert document["actions"] == [{"action": "delete_virtual_mfa_device", "target": mfa_serial("olga")}]
