# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pre-flight's decision of where a run acts (issue 18, item 1)."""

from __future__ import annotations

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import preflight
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

ACCOUNTS = {"all": ["dev", "prod"], "aws_accounts": ["dev", "prod"]}


@pytest.fixture(name="sources")
def fixture_sources(tmp_path):
    empty = tmp_path / "empty.ini"
    empty.write_text("# nothing\n\n---\n; nothing either\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("localhost ansible_connection=local\n")
    return {"empty": str(empty), "hosts": str(hosts), "missing": str(tmp_path / "nope"), "folder": str(tmp_path)}


def test_an_inventory_with_aws_accounts_acts_on_them_only(sources):
    assert preflight.targets("dev", ACCOUNTS, [sources["hosts"]], [], False) == (True, "This run acts on the 2 hosts of group aws_accounts: dev, prod.")
    assert preflight.targets("localhost", ACCOUNTS, [sources["hosts"]], [], False)[0] is False


def test_no_inventory_is_the_callers_account_from_localhost(sources):
    for given in ([], [sources["empty"]], [sources["missing"]], ["/etc/ansible/hosts-not-there"]):
        target, message = preflight.targets("localhost", {"all": []}, given, [], False)
        assert target is True and message.startswith("No inventory was given: this run acts on the account of the caller's own credentials")


@pytest.mark.parametrize("source", ["hosts", "folder", "host list"])
def test_an_inventory_without_aws_accounts_fails_unless_the_caller_account_is_chosen(sources, source):
    given = ["web1,web2"] if source == "host list" else [sources[source]]
    with pytest.raises(IamGuardError, match="has no host in group aws_accounts, so this run acts nowhere"):
        preflight.targets("localhost", {"all": []}, given, [], False)
    assert preflight.targets("localhost", {"all": []}, given, [], "true")[0] is True


def test_a_failed_source_fails_whatever_else_is_there(sources):
    with pytest.raises(IamGuardError, match="The inventory failed.*typo.accounts.yml: Invalid exclude_ids"):
        preflight.targets("dev", ACCOUNTS, [sources["hosts"]], ["typo.accounts.yml: Invalid exclude_ids '12345'"], False)


def test_caller_account_with_aws_accounts_is_unclear_and_refused(sources):
    with pytest.raises(IamGuardError, match="aws_target_caller_account is for an inventory without group aws_accounts"):
        preflight.targets("dev", ACCOUNTS, [sources["hosts"]], [], True)


def test_account_variables():
    preflight.account_variables("dev", aws_role_arn="arn:aws:iam::123456789012:role/x", aws_account_id="012345678901")
    with pytest.raises(IamGuardError, match="dev: aws_account_id must be a 12-digit AWS account id; mfa_serial and mfa_token_code go together"):
        preflight.account_variables("dev", aws_account_id="12345", mfa_serial="arn:aws:iam::123456789012:mfa/me")
    with pytest.raises(IamGuardError, match=r"^localhost: mfa_token_code must be the 6 digits the MFA device shows. Nothing was called in AWS.$"):
        preflight.account_variables("localhost", mfa_serial="arn:aws:iam::123456789012:mfa/me", mfa_token_code="12345")


class HostVars(dict):
    """hostvars as an action plugin sees them: host -> mapping of its variables."""


def test_fan_out_lists_the_accounts_of_aws_accounts_each_checked():
    hostvars = HostVars(dev={"aws_account_id": "210987654321", "aws_role_arn": "arn:aws:iam::210987654321:role/audit"},
                        prod={"aws_role_arn": "arn:aws:iam::310987654321:role/audit", "aws_is_management_account": "yes"})
    assert preflight.fan_out_accounts("localhost", ACCOUNTS, hostvars) == [
        {"name": "dev", "account_id": "210987654321", "role_arn": "arn:aws:iam::210987654321:role/audit", "management": False},
        {"name": "prod", "account_id": "310987654321", "role_arn": "arn:aws:iam::310987654321:role/audit", "management": True},
    ]
    assert preflight.fan_out_accounts("localhost", {"all": ["localhost"]}, {}) == [
        {"name": "localhost", "account_id": None, "role_arn": None, "management": False}]
    with pytest.raises(IamGuardError, match="prod: aws_account_id must be a 12-digit AWS account id"):
        preflight.fan_out_accounts("localhost", ACCOUNTS, HostVars(dev={}, prod={"aws_account_id": "12345"}))
    with pytest.raises(IamGuardError, match="runs from localhost only"):
        preflight.fan_out_accounts("dev", ACCOUNTS, hostvars)
