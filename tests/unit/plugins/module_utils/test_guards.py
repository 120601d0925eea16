# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import guards
from tests.unit.plugins.module_utils.iam_doubles import ACCOUNT, CALLER, user_id


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
