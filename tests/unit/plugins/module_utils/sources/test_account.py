# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The account-wide inventory source, the choice of source, and the DeleteConflict fallback behind it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import users, validation
from ansible_collections.iamguard.aws.plugins.module_utils.devices import VirtualDevices
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.sources import per_user
from ansible_collections.iamguard.aws.plugins.module_utils.sources.account import AccountSnapshot, account_reads_pay, reported_last_use
from ansible_collections.iamguard.aws.plugins.module_utils.sources.choice import MIN_ACCOUNT_TARGETS, choose_source
from tests.unit.plugins.module_utils.iam_doubles import (
    CALLER, DATE, ISO, POLICY, PASSKEY, FakeIam, client_error_of, key_id, mfa_serial, purge_params, raw_user,
)

PER_USER_ONLY = ("get_user", "get_login_profile", "list_groups_for_user", "list_user_policies", "list_attached_user_policies")
ACCOUNT_WIDE = ("get_account_summary", "get_account_authorization_details", "generate_credential_report", "get_credential_report")


def purge_options(**overrides):
    return users.purge_options(purge_params(**overrides))


def _account(count=12):
    """``count`` users: every third with a key, every fourth with a virtual device, every fifth a passkey, all with a policy."""
    fake = FakeIam()
    names = ["user%02d" % n for n in range(count)]
    for n, name in enumerate(names):
        fake.add_user(name, keys=[key_id(n)] if n % 3 == 0 else [], virtual=[mfa_serial(name)] if n % 4 == 0 else [],
                      other_devices=[PASSKEY.replace("alice", name)] if n % 5 == 0 else [], attached=[POLICY])
    return fake, names


def _reads(fake, operation, params=None):
    return [call for call in fake.calls if call[0] == operation and (params is None or call[1] == params)]


def test_a_batch_reads_the_account_once_and_per_user_only_what_the_report_shows():
    fake, names = _account()
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=names, max_workers=4), False)
    assert result["inventory"]["source"] == "account" and result["inventory"]["users_read"] == 12
    assert [u["status"] for u in result["users"]] == ["deleted"] * 12
    assert fake.users == {} and fake.virtual == {}
    for operation in ACCOUNT_WIDE:
        assert len(_reads(fake, operation)) == 1, operation
    for operation in PER_USER_ONLY:
        assert not _reads(fake, operation), operation
    assert _reads(fake, "list_service_specific_credentials") == [("list_service_specific_credentials", {"AllUsers": True})]
    assert len(_reads(fake, "list_ssh_public_keys")) == 12  # the report has no SSH-key column
    assert {c[1]["UserName"] for c in _reads(fake, "list_access_keys")} == {names[n] for n in (0, 3, 6, 9)}
    assert {c[1]["UserName"] for c in _reads(fake, "list_mfa_devices")} == {names[n] for n in (0, 4, 5, 8, 10)}
    assert not _reads(fake, "list_signing_certificates")


def test_check_mode_plans_exactly_what_the_account_source_run_does():
    fake, names = _account()
    planned = users.purge(fake, lambda: CALLER, purge_options(user_names=names), True)
    assert fake.mutations() == [("generate_credential_report", {})]  # which changes no IAM resource
    done = users.purge(fake, lambda: CALLER, purge_options(user_names=names), False)
    assert [(u["requested"], u["actions"]) for u in planned["users"]] == [(u["requested"], u["actions"]) for u in done["users"]]


def test_a_key_made_after_the_report_is_caught_by_delete_conflict_and_removed():
    fake, names = _account()
    fake.generate_credential_report()
    fake.users["user01"]["keys"].append(key_id(99))  # the report, kept for hours by IAM, does not show it
    planned = users.purge(fake, lambda: CALLER, purge_options(user_names=names), True)
    assert {"action": "delete_access_key", "target": key_id(99)} not in planned["users"][1]["actions"]
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=names), False)
    user01 = result["users"][1]
    assert user01["status"] == "deleted"
    assert user01["actions"][-2:] == [{"action": "delete_user", "target": "user01"}, {"action": "delete_access_key", "target": key_id(99)}]
    assert [op for op, params in fake.calls if params.get("UserName") == "user01"].count("delete_user") == 2
    assert _reads(fake, "get_user", {"UserName": "user01"})  # read again per user after the conflict
    assert fake.users == {}


def test_a_user_missing_from_the_report_is_read_per_user():
    fake, names = _account()
    fake.generate_credential_report()
    fake.add_user("newcomer", keys=[key_id(50)])
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=names + ["newcomer"]), False)
    assert result["users"][-1]["actions"][0] == {"action": "delete_access_key", "target": key_id(50)}
    assert _reads(fake, "get_user", {"UserName": "newcomer"}) and len(_reads(fake, "get_user")) == 1
    assert fake.users == {}


def test_a_small_batch_never_reads_the_account():
    fake, names = _account()
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=names[:MIN_ACCOUNT_TARGETS - 1]), False)
    assert result["inventory"] == {"source": "per_user", "reason": "7 users: fewer than 8"}
    assert not any(_reads(fake, operation) for operation in ACCOUNT_WIDE)


def test_a_batch_small_for_its_big_account_is_read_per_user():
    fake, names = _account()
    fake.get_account_summary = lambda: {"SummaryMap": {"Users": 100000}}
    source, described, warnings = choose_source(fake, purge_options(user_names=names), 12)
    assert source is per_user and "100000 users" in described["reason"] and not warnings
    assert not fake.calls


@pytest.mark.parametrize("targets, account_users, pays", [(8, 100, True), (8, 10000, False), (200, 220, True), (20, 100000, False)])
def test_account_reads_pay_by_batch_and_account_size(targets, account_users, pays):
    assert account_reads_pay(targets, account_users) is pays


def test_state_disabled_reads_per_user_and_refuses_the_account_source():
    fake, names = _account()
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=names, state="disabled"), True)
    assert result["inventory"]["source"] == "per_user" and "state=disabled" in result["inventory"]["reason"]
    with pytest.raises(validation.InvalidInput, match="inventory_source"):
        purge_options(user_names=names, state="disabled", inventory_source="account")


def _deny_report(fake):
    def denied():
        raise client_error_of("AccessDenied", "not authorized to perform: iam:GenerateCredentialReport", "GenerateCredentialReport")
    fake.generate_credential_report = denied


def test_auto_falls_back_to_per_user_reads_with_a_warning_when_the_report_is_denied():
    fake, names = _account()
    _deny_report(fake)
    result = users.purge(fake, lambda: CALLER, purge_options(user_names=names), False)
    assert result["inventory"]["source"] == "per_user"
    assert any("Every user was read on its own" in w and "AccessDenied" in w for w in result["warnings"])
    assert fake.users == {}


def test_the_account_source_asked_for_fails_before_any_change():
    fake, names = _account()
    _deny_report(fake)
    with pytest.raises(IamGuardError, match="inventory_source=account: .*AccessDenied.*Nothing was changed"):
        users.purge(fake, lambda: CALLER, purge_options(user_names=names, inventory_source="account"), False)
    assert not fake.mutations()


ROW = {"user": "alice", "user_creation_time": ISO, "password_enabled": "true", "mfa_active": "false",
       "access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "access_key_1_last_used_date": "N/A",
       "access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A",
       "cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false", "cert_2_last_rotated": "N/A"}
DETAILS = dict(raw_user("alice", Tags=[{"Key": "team", "Value": "ops"}]), GroupList=["devs"], AttachedManagedPolicies=[{"PolicyArn": POLICY}],
               UserPolicyList=[{"PolicyName": "inline", "PolicyDocument": {"Version": "2012-10-17"}}],
               PermissionsBoundary={"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": POLICY})


class Recorder:
    """Answers every per-user read with nothing, and records which were made."""

    def __init__(self):
        self.made = []
        self.meta = FakeIam().meta

    def can_paginate(self, operation):
        return False

    def __getattr__(self, operation):
        def answer(**params):
            self.made.append(operation)
            if operation == "list_virtual_mfa_devices":
                return {"VirtualMFADevices": []}
            if operation == "get_login_profile":
                return {"LoginProfile": {"CreateDate": DATE, "PasswordResetRequired": True}}
            if operation == "get_access_key_last_used":
                return {"AccessKeyLastUsed": {"ServiceName": "s3", "Region": "eu-west-1", "LastUsedDate": DATE}}
            return {}
        return answer


def _snapshot(row):
    return AccountSnapshot([DETAILS], [{"UserName": "alice", "ServiceSpecificCredentialId": "ACCA1", "ServiceName": "codecommit.amazonaws.com"}],
                           [{"user": "<root_account>"}, row], datetime(2024, 1, 2, 6, tzinfo=timezone.utc))


def test_snapshot_facts_come_from_the_account_reads():
    client = Recorder()
    facts = _snapshot(ROW).inventory(client, "ALICE", VirtualDevices(client))
    assert facts["user"]["user_name"] == "alice" and facts["user"]["tags"] == {"team": "ops"} and facts["user"]["permissions_boundary"] == POLICY
    assert facts["login_profile"] == {"create_date": None, "password_reset_required": None}
    assert (facts["groups"], facts["attached_policies"], facts["inline_policies"]) == (["devs"], [POLICY], {"inline": {"Version": "2012-10-17"}})
    assert [c["service_specific_credential_id"] for c in facts["service_specific_credentials"]] == ["ACCA1"]
    assert client.made == ["list_ssh_public_keys", "list_virtual_mfa_devices"]


def test_an_inactive_certificate_in_the_report_is_listed():
    client = Recorder()
    _snapshot(dict(ROW, cert_2_last_rotated=ISO)).inventory(client, "alice", VirtualDevices(client))
    assert "list_signing_certificates" in client.made


def test_a_row_of_a_deleted_namesake_is_not_trusted():
    client = Recorder()
    _snapshot(dict(ROW, user_creation_time="2020-05-05T00:00:00+00:00")).inventory(client, "alice", VirtualDevices(client))
    assert "get_user" in client.made  # read per user: the report describes someone else


def test_an_enabled_virtual_device_the_report_does_not_show_is_listed():
    client = Recorder()
    virtual = VirtualDevices(client)
    virtual._by_serial = {mfa_serial("alice"): {"SerialNumber": mfa_serial("alice"), "User": raw_user("alice"), "EnableDate": DATE}}
    _snapshot(ROW).inventory(client, "alice", virtual)
    assert "list_mfa_devices" in client.made


def test_manifest_details_take_key_use_from_the_report_and_read_the_rest():
    client = Recorder()
    row = dict(ROW, access_key_1_active="true", access_key_1_last_rotated=ISO, access_key_1_last_used_date="2024-03-01T00:00:00+00:00",
               access_key_1_last_used_service="iam", access_key_1_last_used_region="us-east-1")
    facts = _snapshot(row).inventory(client, "alice", VirtualDevices(client), detailed=True)
    assert facts["login_profile"] == {"create_date": ISO, "password_reset_required": True}
    assert "get_user_policy" not in client.made and "get_access_key_last_used" not in client.made
    assert "list_access_keys" in client.made


@pytest.mark.parametrize("created, rotated_1, rotated_2, found", [
    ("2024-01-02T03:04:05.600000+00:00", ISO, "N/A", {"date": "2024-03-01", "service": "iam", "region": None}),
    ("2024-01-02T03:04:06+00:00", ISO, "N/A", None),  # no key of the report was created then
    (ISO, ISO, ISO, None),  # two keys created in the same second: IAM is asked
])
def test_reported_last_use_matches_the_key_by_creation_time(created, rotated_1, rotated_2, found):
    row = dict(ROW, access_key_1_last_rotated=rotated_1, access_key_2_last_rotated=rotated_2, access_key_1_last_used_date="2024-03-01",
               access_key_1_last_used_service="iam", access_key_1_last_used_region="N/A")
    assert reported_last_use(row, {"create_date": created}) == found
