# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/root/accounts.py: the targets and the JSON report of an account, audited or unreachable."""

from __future__ import annotations

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.root.accounts import report_document, target_list

ORGANIZATION = {"management_account_id": "123456789012", "organization_id": "o-example", "enabled_features": ["RootSessions"]}


def test_targets_are_twelve_digit_ids_each_once_named_when_a_name_is_given():
    assert target_list(["210987654321", "310987654321"], {"210987654321": "dev"}) == [
        {"account_id": "210987654321", "name": "dev"}, {"account_id": "310987654321", "name": "310987654321"}]
    for bad in (["12345"], ["210987654321", "210987654321"], [210987654321]):
        with pytest.raises(validation.InvalidInput, match="account_ids"):
            target_list(bad, None)


def test_report_of_an_audited_and_of_an_unreachable_account():
    audited = {"account_id": "210987654321", "name": "dev", "credentials": {"login_profile": None}, "credentials_audited": True, "scp_blockers": [],
               "scp_checked": True, "findings": [], "counts": {"root_access_key": 0}, "summary": "password no, ..."}
    assert report_document(audited, ORGANIZATION, "20261206T000000Z") == {
        "account_id": "210987654321", "generated_time": "20261206T000000Z", "organization": ORGANIZATION,
        "credentials": {"login_profile": None}, "credentials_audited": True, "scp_blockers": [], "findings": [], "counts": {"root_access_key": 0}}
    unreachable = {"account_id": "310987654321", "name": "prod", "code": "AccessDenied", "message": "no"}
    assert report_document(unreachable, ORGANIZATION, "20261206T000000Z") == {
        "account_id": "310987654321", "account_name": "prod", "generated_time": "20261206T000000Z", "organization": ORGANIZATION,
        "credentials": None, "findings": [], "counts": {}, "unreachable": {"code": "AccessDenied", "message": "no"}}
