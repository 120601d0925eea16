# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply, is_removal
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action, report

VIRTUAL = "arn:aws:iam::123456789012:mfa/alice"
PASSKEY = "arn:aws:iam::123456789012:u2f/user/alice/key-ABCDEFGHIJKLMNOP"


def _removal_plan():
    return [
        Action("deactivate_mfa_device", VIRTUAL, {"UserName": "alice", "SerialNumber": VIRTUAL}),
        Action("delete_virtual_mfa_device", VIRTUAL, {"SerialNumber": VIRTUAL}),
        Action("deactivate_mfa_device", PASSKEY, {"UserName": "alice", "SerialNumber": PASSKEY}),
    ]


def test_action_report_has_no_params():
    action = Action("enable_mfa_device", VIRTUAL, {"UserName": "alice", "SerialNumber": VIRTUAL})
    assert action.report() == {"action": "enable_mfa_device", "target": VIRTUAL}


def test_action_defaults_and_equality():
    assert Action("write_seed", "/tmp/seed").params == {}
    assert Action("a", "t", {"X": 1}) == Action("a", "t", {"X": 1})
    assert Action("a", "t", {"X": 1}) != Action("a", "t", {"X": 2})


def test_report_keeps_order():
    assert report(_removal_plan()) == [
        {"action": "deactivate_mfa_device", "target": VIRTUAL},
        {"action": "delete_virtual_mfa_device", "target": VIRTUAL},
        {"action": "deactivate_mfa_device", "target": PASSKEY},
    ]
    assert report([]) == []


@pytest.mark.parametrize(
    "name, removal",
    [
        ("delete_virtual_mfa_device", True),
        ("deactivate_mfa_device", True),
        ("detach_user_policy", True),
        ("remove_user_from_group", True),
        ("enable_mfa_device", False),
        ("create_virtual_mfa_device", False),
        ("write_seed", False),
        ("undelete", False),
    ],
)
def test_is_removal(name, removal):
    assert is_removal(Action(name, "t")) is removal


def test_apply_calls_each_method_in_order(iam, stub):
    for action in _removal_plan():
        stub.add_response(action.action, {}, action.params)
    apply(iam, _removal_plan())


def test_apply_empty_plan_makes_no_call(iam, stub):  # pylint: disable=unused-argument
    apply(iam, [])


def test_apply_swallows_no_such_entity_on_removals(iam, stub):
    actions = _removal_plan()
    stub.add_client_error("deactivate_mfa_device", "NoSuchEntity", "gone", 404, expected_params=actions[0].params)
    stub.add_client_error("delete_virtual_mfa_device", "NoSuchEntity", "gone", 404, expected_params=actions[1].params)
    stub.add_response("deactivate_mfa_device", {}, actions[2].params)
    apply(iam, actions)


def test_apply_raises_no_such_entity_on_non_removal_and_stops(iam, stub):
    actions = [
        Action(
            "enable_mfa_device", VIRTUAL, {"UserName": "alice", "SerialNumber": VIRTUAL, "AuthenticationCode1": "081804", "AuthenticationCode2": "050471"}
        ),
        Action("delete_virtual_mfa_device", VIRTUAL, {"SerialNumber": VIRTUAL}),
    ]
    stub.add_client_error("enable_mfa_device", "NoSuchEntity", "no such user", 404, expected_params=actions[0].params)
    with pytest.raises(IamGuardError) as caught:
        apply(iam, actions)
    assert isinstance(caught.value.exception, ClientError)
    assert caught.value.message == "enable_mfa_device %s failed: NoSuchEntity: no such user" % VIRTUAL


def test_apply_raises_other_errors_on_removals(iam, stub):
    actions = _removal_plan()
    stub.add_client_error("deactivate_mfa_device", "AccessDenied", "denied", 403, expected_params=actions[0].params)
    with pytest.raises(IamGuardError) as caught:
        apply(iam, actions)
    assert isinstance(caught.value.exception, ClientError)
    assert "AccessDenied" in caught.value.message


def test_apply_uses_handlers_for_their_actions(iam, stub):
    seen = []

    def handler(client, action):
        assert client is iam
        seen.append(action)

    actions = [
        Action("write_seed", "/secret/seed.txt"),
        Action("delete_virtual_mfa_device", VIRTUAL, {"SerialNumber": VIRTUAL}),
        Action("write_qr_code_png", "/secret/qr.png"),
    ]
    stub.add_response("delete_virtual_mfa_device", {}, {"SerialNumber": VIRTUAL})
    apply(iam, actions, {"write_seed": handler, "write_qr_code_png": handler})
    assert seen == [actions[0], actions[2]]


def test_apply_handler_replaces_the_client_call(iam, stub):  # pylint: disable=unused-argument
    seen = []
    actions = [Action("delete_virtual_mfa_device", VIRTUAL, {"SerialNumber": VIRTUAL})]
    apply(iam, actions, {"delete_virtual_mfa_device": lambda client, action: seen.append(action.target)})
    assert seen == [VIRTUAL]


def test_apply_handler_error_stops_the_plan(iam, stub):  # pylint: disable=unused-argument
    def failing(_client, _action):
        raise IamGuardError("cannot write")

    actions = [Action("write_seed", "/x"), Action("delete_virtual_mfa_device", VIRTUAL, {"SerialNumber": VIRTUAL})]
    with pytest.raises(IamGuardError, match="cannot write"):
        apply(iam, actions, {"write_seed": failing})
