"""The remediation playbooks' variables, checked by the pre-flight (module_utils/playbook_settings.py)."""

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import playbook_settings
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError


def refusal(playbook, **values):
    with pytest.raises(IamGuardError) as caught:
        playbook_settings.settings(playbook, values)
    assert caught.value.message.endswith(". Nothing was called in AWS."), caught.value.message
    return caught.value.message


def test_offboard_defaults_and_survey_strings():
    assert playbook_settings.settings("offboard", {"offboard_users": "alice, bob\ncarol"}) == {
        "user_names": ["alice", "bob", "carol"], "protected_users": [], "mode": "delete", "state": "absent",
        "access_key_action": None, "inventory_source": None, "fail_on_missing": False,
    }
    disabled = playbook_settings.settings("offboard", {
        "offboard_users": ["a,b"], "protected_users": "admin-*,break-glass", "offboard_mode": "disable",
        "offboard_access_key_action": "deactivate", "offboard_inventory_source": "per_user", "offboard_fail_on_missing": "yes",
    })
    assert disabled == {
        "user_names": ["a,b"], "protected_users": ["admin-*", "break-glass"], "mode": "disable", "state": "disabled",
        "access_key_action": "deactivate", "inventory_source": "per_user", "fail_on_missing": True,
    }


@pytest.mark.parametrize("values, fragments", [
    ({}, ["offboard_users is required"]),
    ({"offboard_users": " , \n"}, ["offboard_users is required"]),
    ({"offboard_users": ["alice", "bad name", "\u00e5sa"]}, ["refused: bad name, \u00e5sa"]),
    ({"offboard_users": "alice", "offboard_mode": "erase"}, ["offboard_mode must be delete or disable (got erase)"]),
    ({"offboard_users": "alice", "offboard_access_key_action": "deactivate"}, ["only for offboard_mode disable"]),
    ({"offboard_users": "alice", "offboard_mode": "disable", "offboard_access_key_action": "rotate"}, ["offboard_access_key_action"]),
    ({"offboard_users": "alice", "offboard_mode": "disable", "offboard_inventory_source": "account"}, ["account only with offboard_mode delete"]),
    ({"offboard_users": "alice", "offboard_fail_on_missing": "maybe"}, ["offboard_fail_on_missing"]),
    ({"offboard_users": {"alice": 1}}, ["offboard_users"]),
    # Every broken rule at once.
    ({"offboard_users": "bad name", "offboard_mode": "erase", "offboard_fail_on_missing": "maybe"},
     ["refused: bad name", "offboard_mode must be", "offboard_fail_on_missing"]),
])
def test_offboard_refusals_name_each_broken_rule(values, fragments):
    message = refusal("offboard", **values)
    for fragment in fragments:
        assert fragment in message


def test_orphan_cleanup_defaults_and_survey_strings():
    assert playbook_settings.settings("orphan_cleanup", {}) == {
        "name_patterns": ["*"], "path_patterns": ["*"], "min_age_minutes": 60, "include_unknown_age": True,
    }
    assert playbook_settings.settings("orphan_cleanup", {
        "orphan_name_patterns": "ci-*, tmp-?", "orphan_path_patterns": "/team/*", "orphan_min_age_minutes": "0",
        "orphan_include_unknown_age": "false",
    }) == {"name_patterns": ["ci-*", "tmp-?"], "path_patterns": ["/team/*"], "min_age_minutes": 0, "include_unknown_age": False}


@pytest.mark.parametrize("values, fragment", [
    ({"orphan_name_patterns": "team/alice"}, "orphan_name_patterns"),
    ({"orphan_name_patterns": []}, "orphan_name_patterns"),
    ({"orphan_path_patterns": "team/*"}, "orphan_path_patterns"),
    ({"orphan_min_age_minutes": "-5"}, "orphan_min_age_minutes must be a whole number of minutes, 0 or more (got -5)"),
    ({"orphan_min_age_minutes": "an hour"}, "orphan_min_age_minutes"),
    ({"orphan_include_unknown_age": "sometimes"}, "orphan_include_unknown_age"),
])
def test_orphan_cleanup_refusals(values, fragment):
    assert fragment in refusal("orphan_cleanup", **values)


def test_unknown_playbook_is_refused():
    with pytest.raises(IamGuardError, match="settings.playbook"):
        playbook_settings.settings("enroll", {})


def test_mfa_audit_defaults_and_every_rule_at_once():
    assert playbook_settings.settings("mfa_audit", {"audit_require_phishing_resistant_for": "*", "audit_fail_on": "account_unreachable"}) == {
        "fail_on": ["account_unreachable"], "require_hardware_for": [], "require_phishing_resistant_for": ["*"],
        "report_formats": ["markdown", "json", "csv"], "unused_access_key_days": 45, "max_report_age_hours": None, "max_workers": 16,
    }
    message = refusal("mfa_audit", audit_fail_on="root_access_key,bogus", audit_require_hardware_for=["admin team"],
                      audit_unused_access_key_days="0", audit_max_report_age_hours="soon", audit_report_formats="markdown,pdf",
                      audit_max_workers=65)
    for fragment in ("unknown: bogus", "audit_require_hardware_for must be a list of user names or shell patterns",
                     "audit_unused_access_key_days must be a whole number of days, 1 or more (got 0)",
                     "audit_max_report_age_hours must be a whole number of hours, 1 or more (got soon)",
                     "audit_report_formats must be one or more of markdown, json, csv (got markdown, pdf)",
                     "audit_max_workers must be a whole number from 1 to 64 (got 65)"):
        assert fragment in message


MEMBERS = [{"name": "dev", "account_id": "210987654321", "role_arn": None, "management": False},
           {"name": "prod", "account_id": "310987654321", "role_arn": None, "management": False}]
CALLER_ONLY = [{"name": "localhost", "account_id": None, "role_arn": None, "management": False}]


def test_root_audit_targets_are_the_inventory_hosts_or_account_ids():
    assert playbook_settings.settings("root_credentials_audit", {}, MEMBERS) == {
        "account_ids": ["210987654321", "310987654321"], "account_names": {"210987654321": "dev", "310987654321": "prod"},
        "max_workers": 16, "fail_on_unreachable": False,
    }
    assert playbook_settings.settings("root_credentials_audit", {"account_ids": "210987654321, 310987654321", "root_audit_fail_on_unreachable": "yes"},
                                      CALLER_ONLY)["account_ids"] == ["210987654321", "310987654321"]


@pytest.mark.parametrize("accounts, values, fragment", [
    (CALLER_ONLY, {}, "with no inventory, account_ids must name at least one member account"),
    (CALLER_ONLY, {"account_ids": "2109876543,x"}, "account_ids must be a list of 12-digit AWS account ids"),
    (MEMBERS + [{"name": "mgmt", "account_id": "123456789012", "role_arn": None, "management": True}], {},
     "mgmt is the organization's management account"),
    ([{"name": "stray", "account_id": None, "role_arn": None, "management": False}], {}, "stray: aws_account_id must be the 12-digit id"),
    (MEMBERS, {"root_audit_max_workers": "0"}, "root_audit_max_workers must be a whole number from 1 to 64 (got 0)"),
    (MEMBERS, {"root_audit_fail_on_unreachable": "perhaps"}, "root_audit_fail_on_unreachable"),
])
def test_root_audit_refusals(accounts, values, fragment):
    with pytest.raises(IamGuardError) as caught:
        playbook_settings.settings("root_credentials_audit", values, accounts)
    assert fragment in caught.value.message


def test_enroll_mfa_person_and_unattended():
    assert playbook_settings.settings("enroll_mfa", {"enroll_user_name": "alice"}) == {
        "user_name": "alice", "mode": "person", "generate_codes": False, "codes_given": False, "secret_file_suffix": "-alice-mfa.png", "force": False,
    }
    step_2 = playbook_settings.settings("enroll_mfa", {"enroll_user_name": "alice", "enroll_code_1": 123456, "enroll_code_2": "654321"})
    assert step_2["codes_given"] is True
    assert "123456" not in str(step_2) and "654321" not in str(step_2)  # checked, never returned (the pre-flight's result is printed at -v)
    assert playbook_settings.settings("enroll_mfa", {"enroll_user_name": "svc", "enroll_mode": "unattended", "enroll_force": "yes"}) == {
        "user_name": "svc", "mode": "unattended", "generate_codes": True, "codes_given": False, "secret_file_suffix": "-svc-mfa.seed", "force": True,
    }


@pytest.mark.parametrize("values, fragment", [
    ({"enroll_user_name": None}, "enroll_user_name is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got nothing)"),
    ({"enroll_user_name": "al ice"}, "enroll_user_name is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got al ice)"),
    ({"enroll_user_name": ["alice"]}, "(got ['alice'])"),
    ({"enroll_mode": "later"}, "enroll_mode must be person or unattended (got later)"),
    ({"enroll_code_1": "123456"}, "enroll_code_1 and enroll_code_2 go together, and only with enroll_mode person"),
    ({"enroll_code_2": "123456"}, "enroll_code_1 and enroll_code_2 go together, and only with enroll_mode person"),
    ({"enroll_mode": "unattended", "enroll_code_1": "123456", "enroll_code_2": "654321"}, "and only with enroll_mode person"),
    ({"enroll_code_1": "123456", "enroll_code_2": "123456"}, "enroll_code_1 and enroll_code_2 must be two different 6-digit codes"),
    ({"enroll_code_1": "12345a", "enroll_code_2": "123456"}, "enroll_code_1 and enroll_code_2 must be two different 6-digit codes"),
    ({"enroll_code_1": "1234567", "enroll_code_2": "123456"}, "enroll_code_1 and enroll_code_2 must be two different 6-digit codes"),
    ({"enroll_force": "sometimes"}, "enroll_force must be true or false (got sometimes)"),
])
def test_enroll_mfa_refusals(values, fragment):
    message = refusal("enroll_mfa", **dict({"enroll_user_name": "alice"}, **values))
    assert fragment in message
    assert "123456" not in message and "654321" not in message  # a code is never echoed


def test_enroll_mfa_names_every_broken_rule():
    message = refusal("enroll_mfa", enroll_mode="later", enroll_code_1="123456", enroll_code_2="123456", enroll_force="sometimes")
    assert message == ("enroll_user_name is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got nothing); "
                       "enroll_mode must be person or unattended (got later); "
                       "enroll_code_1 and enroll_code_2 go together, and only with enroll_mode person; "
                       "enroll_code_1 and enroll_code_2 must be two different 6-digit codes; "
                       "enroll_force must be true or false (got sometimes). Nothing was called in AWS.")


def test_reset_mfa_user_name_and_mfa_serial():
    assert playbook_settings.settings("reset_mfa", {"reset_user_name": "bob"}) == {"user_name": "bob"}
    assert playbook_settings.settings("reset_mfa", {"reset_user_name": "bob", "mfa_serial": "arn:aws:iam::123456789012:mfa/ops"}) == {"user_name": "bob"}


@pytest.mark.parametrize("values, fragment", [
    ({}, "reset_user_name is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got nothing)"),
    ({"reset_user_name": ["bob"]}, "reset_user_name is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got ['bob'])"),
    ({"reset_user_name": "bob\n"}, "reset_user_name is required"),
    ({"reset_user_name": "bob", "mfa_serial": "x"}, "mfa_serial must be the ARN or serial number of the caller's MFA device (got x)"),
    ({"reset_user_name": "bob", "mfa_serial": "arn:aws:iam::123456789012:mfa/o ps"}, "mfa_serial must be the ARN or serial number"),
])
def test_reset_mfa_refusals(values, fragment):
    assert fragment in refusal("reset_mfa", **values)
