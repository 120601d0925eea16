# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.plans import user as plans_user
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action
from tests.unit.plugins.module_utils.iam_doubles import POLICY, PASSKEY, mfa_serial, key_id, ALICE_PURGE, facts_of


def _calls(actions):
    return [(action.action, action.params) for action in actions]


def test_plan_absent_order_locks_out_first_then_permissions_then_delete():
    assert _calls(plans_user.plan_user(facts_of(), "absent")) == ALICE_PURGE


def test_plan_absent_never_deletes_a_passkey_as_virtual():
    actions = plans_user.plan_user(facts_of(), "absent")
    assert ("delete_virtual_mfa_device", PASSKEY) not in [(a.action, a.target) for a in actions]


def test_plan_absent_of_bare_user_is_delete_only():
    bare = facts_of(login_profile=None, access_keys=[], ssh_public_keys=[], signing_certificates=[], service_specific_credentials=[],
                    mfa_devices=[], groups=[], inline_policies={}, attached_policies=[])
    assert plans_user.plan_user(bare, "absent") == [Action("delete_user", "alice", {"UserName": "alice"})]


def test_plan_disabled_deactivates_active_keys_and_keeps_permissions():
    calls = _calls(plans_user.plan_user(facts_of(), "disabled", access_key_action="deactivate"))
    assert ("update_access_key", {"UserName": "alice", "AccessKeyId": key_id(1), "Status": "Inactive"}) in calls
    assert not [c for c in calls if c[0] == "update_access_key" and c[1]["AccessKeyId"] == key_id(2)]
    assert not [c for c in calls if c[0] in ("delete_user", "detach_user_policy", "delete_user_policy", "remove_user_from_group", "delete_access_key")]
    assert calls[0] == ("delete_login_profile", {"UserName": "alice"})


def test_plan_disabled_with_remove_permissions():
    calls = _calls(plans_user.plan_user(facts_of(), "disabled", access_key_action="delete", remove_permissions=True))
    assert calls == ALICE_PURGE[:-1]


def test_summarize_and_after():
    facts = facts_of()
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
