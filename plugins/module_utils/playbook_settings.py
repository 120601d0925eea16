# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variables of a playbook (offboard, orphan_cleanup, mfa_audit, enroll_mfa, ...), checked and turned into module options by the
pre-flight, before any AWS call.

A person gives them with -e, an inventory or an AWX survey, so they arrive as YAML values or as
text ("false", "30", "alice, bob"). Every broken rule is named at once, in one sentence each;
nothing was called in AWS when one is refused. Absent variables arrive as None and take their
defaults here, not in the playbook's Jinja.
"""

from __future__ import annotations

import re

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.audit_report import FORMATS
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.findings import MFA_AUDIT_FAIL_ON_IDS
from ansible_collections.iamguard.aws.plugins.module_utils.validation import DEFAULT_ACCOUNT_WORKERS, MAX_ACCOUNT_WORKERS

WHOLE_NUMBER = re.compile(r"[0-9]+")
# A user name, or a shell pattern over user names ([], *, ?, ! beside IAM's characters).
USER_PATTERN = re.compile(r"[][\w+=,.@*?!-]{1,64}", re.ASCII)


class _Rules:
    """Collects the sentences of broken rules; ``checked`` raises one error naming them all."""

    def __init__(self):
        self.broken = []

    def require(self, ok, sentence):
        if not ok:
            self.broken.append(sentence)
        return ok

    def call(self, function, *args):
        """``function(*args)``, or None with its refusal recorded (validation.InvalidInput says what and why)."""
        try:
            return function(*args)
        except IamGuardError as error:
            self.broken.append(error.message.replace(" Nothing was changed.", ""))
            return None

    def checked(self, settings):
        if self.broken:
            raise IamGuardError("%s. Nothing was called in AWS." % "; ".join(sentence.rstrip(".") for sentence in self.broken))
        return settings


def _given(value, default):
    return default if value is None else value


def offboard(offboard_users=None, protected_users=None, offboard_mode=None, offboard_access_key_action=None,
             offboard_inventory_source=None, offboard_fail_on_missing=None):
    """offboard.yml's variables as iam_user_purge's options (user_names, state, access_key_action, inventory_source, ...)."""
    rules = _Rules()
    users = rules.call(validation.survey_list, offboard_users, "offboard_users") or []
    rules.require(users, "offboard_users is required: IAM user names as a list, or one string separated by commas or newlines")
    bad_names = [name for name in users if not validation.USER_NAME.fullmatch(name)]
    rules.require(not bad_names, "offboard_users: each name is 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (refused: %s)" % ", ".join(bad_names))
    mode = str(_given(offboard_mode, "delete"))
    rules.require(mode in ("delete", "disable"), "offboard_mode must be delete or disable (got %s)" % mode)
    rules.require(offboard_access_key_action is None or (mode == "disable" and offboard_access_key_action in ("delete", "deactivate")),
                  "offboard_access_key_action must be delete or deactivate, and is only for offboard_mode disable")
    rules.require(offboard_inventory_source in (None, "auto", "per_user") or (offboard_inventory_source == "account" and mode == "delete"),
                  "offboard_inventory_source must be auto, per_user or account (account only with offboard_mode delete)")
    return rules.checked({
        "user_names": users,
        "protected_users": rules.call(validation.survey_list, protected_users, "protected_users") or [],
        "mode": mode,
        "state": "absent" if mode == "delete" else "disabled",
        "access_key_action": offboard_access_key_action,
        "inventory_source": offboard_inventory_source,
        "fail_on_missing": rules.call(validation.boolean, _given(offboard_fail_on_missing, False), "offboard_fail_on_missing"),
    })


def orphan_cleanup(orphan_name_patterns=None, orphan_path_patterns=None, orphan_min_age_minutes=None, orphan_include_unknown_age=None):
    """orphan_cleanup.yml's variables as iam_mfa_orphans' options (name_patterns, path_patterns, min_age_minutes, include_unknown_age)."""
    rules = _Rules()
    names = rules.call(validation.survey_list, _given(orphan_name_patterns, ["*"]), "orphan_name_patterns") or []
    rules.require(names and not any("/" in pattern for pattern in names),
                  "orphan_name_patterns must be a non-empty list of shell patterns (or one string separated by commas), each without /")
    paths = rules.call(validation.survey_list, _given(orphan_path_patterns, ["*"]), "orphan_path_patterns") or []
    rules.require(paths and all(pattern.startswith(("/", "*")) for pattern in paths),
                  "orphan_path_patterns must be a non-empty list of shell patterns (or one string separated by commas), each starting with / or *")
    min_age = _whole_number(rules, _given(orphan_min_age_minutes, 60), "orphan_min_age_minutes", "a whole number of minutes, 0 or more", 0)
    return rules.checked({
        "name_patterns": names,
        "path_patterns": paths,
        "min_age_minutes": min_age,
        "include_unknown_age": rules.call(validation.boolean, _given(orphan_include_unknown_age, True), "orphan_include_unknown_age"),
    })


def _whole_number(rules, value, name, rule, low, high=None):
    """``value`` (a number, or its text) as an int from ``low`` to ``high`` (None: no limit), else None with ``rule`` recorded."""
    text = str(value).strip()
    ok = bool(WHOLE_NUMBER.fullmatch(text)) and low <= int(text) and (high is None or int(text) <= high)
    rules.require(ok, "%s must be %s (got %s)" % (name, rule, text))
    return int(text) if ok else None


def mfa_audit(audit_fail_on=None, audit_require_hardware_for=None, audit_require_phishing_resistant_for=None, audit_unused_access_key_days=None,
              audit_max_report_age_hours=None, audit_report_formats=None, audit_max_workers=None):
    """mfa_audit.yml's variables as iam_mfa_audit's options (fail_on, require_hardware_for, unused_access_key_days, ...)."""
    rules = _Rules()
    fail_on = rules.call(validation.survey_list, audit_fail_on, "audit_fail_on") or []
    unknown = [finding_id for finding_id in fail_on if finding_id not in MFA_AUDIT_FAIL_ON_IDS]
    rules.require(not unknown, "audit_fail_on must list known finding ids (%s); unknown: %s" % (", ".join(MFA_AUDIT_FAIL_ON_IDS), ", ".join(unknown)))
    patterns = {"audit_require_hardware_for": audit_require_hardware_for, "audit_require_phishing_resistant_for": audit_require_phishing_resistant_for}
    for name, given in patterns.items():
        patterns[name] = rules.call(validation.survey_list, given, name) or []
        rules.require(all(USER_PATTERN.fullmatch(pattern) for pattern in patterns[name]), "%s must be a list of user names or shell patterns" % name)
    formats = rules.call(validation.survey_list, _given(audit_report_formats, list(FORMATS)), "audit_report_formats") or []
    rules.require(formats and not set(formats) - set(FORMATS),
                  "audit_report_formats must be one or more of %s (got %s)" % (", ".join(FORMATS), ", ".join(formats)))
    settings = {
        "fail_on": fail_on,
        "require_hardware_for": patterns["audit_require_hardware_for"],
        "require_phishing_resistant_for": patterns["audit_require_phishing_resistant_for"],
        "report_formats": formats,
        "unused_access_key_days": _whole_number(rules, _given(audit_unused_access_key_days, 45), "audit_unused_access_key_days",
                                                "a whole number of days, 1 or more", 1),
        "max_report_age_hours": None if audit_max_report_age_hours is None else _whole_number(
            rules, audit_max_report_age_hours, "audit_max_report_age_hours", "a whole number of hours, 1 or more", 1),
        "max_workers": _whole_number(rules, _given(audit_max_workers, DEFAULT_ACCOUNT_WORKERS), "audit_max_workers",
                                     "a whole number from 1 to %d" % MAX_ACCOUNT_WORKERS, 1, MAX_ACCOUNT_WORKERS),
    }
    return rules.checked(settings)


def root_credentials_audit(accounts, account_ids=None, root_audit_max_workers=None, root_audit_fail_on_unreachable=None):
    """root_credentials_audit.yml's variables and the pre-flight's ``accounts`` as iam_root_credentials_info's options.

    With an inventory, its hosts of aws_accounts are the member accounts (their aws_account_id; the management account is
    refused: AssumeRoot cannot target it); with none, account_ids names them.
    """
    rules = _Rules()
    hosts = [account for account in accounts or [] if account["name"] != "localhost" or account["account_id"]]
    if hosts:
        without_id = [host["name"] for host in hosts if not validation.ACCOUNT_ID.fullmatch(str(host["account_id"] or ""))]
        rules.require(not without_id, "%s: aws_account_id must be the 12-digit id of the account this host stands for" % ", ".join(without_id))
        management = [host["name"] for host in hosts if host.get("management")]
        rules.require(not management, "%s is the organization's management account: sts:AssumeRoot cannot target it, so its root credentials "
                                      "cannot be managed this way (exclude it from the inventory)" % ", ".join(management))
        ids = [str(host["account_id"]) for host in hosts]
        names = {str(host["account_id"]): host["name"] for host in hosts}
    else:
        ids = rules.call(validation.survey_list, account_ids, "account_ids") or []
        rules.require(all(validation.ACCOUNT_ID.fullmatch(account_id) for account_id in ids),
                      "account_ids must be a list of 12-digit AWS account ids (or one string separated by commas or newlines); got %s" % account_ids)
        rules.require(ids,
                      "with no inventory, account_ids must name at least one member account (-e account_ids=210987654321,...)")
        names = {}
    return rules.checked({
        "account_ids": ids,
        "account_names": names,
        "max_workers": _whole_number(rules, _given(root_audit_max_workers, DEFAULT_ACCOUNT_WORKERS), "root_audit_max_workers",
                                     "a whole number from 1 to %d" % MAX_ACCOUNT_WORKERS, 1, MAX_ACCOUNT_WORKERS),
        "fail_on_unreachable": rules.call(validation.boolean, _given(root_audit_fail_on_unreachable, False), "root_audit_fail_on_unreachable"),
    })


def _user_name(rules, value, name):
    """The required IAM user name ``name``, else None with its rule recorded."""
    ok = isinstance(value, str) and validation.USER_NAME.fullmatch(value)
    rules.require(ok, "%s is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got %s)" % (name, _given(value, "nothing")))
    return value if ok else None


def _boolean(rules, value, name):
    """``value`` as a bool (validation.boolean), else None with "<name> must be true or false" recorded."""
    try:
        return validation.boolean(value, name)
    except validation.InvalidInput:
        rules.broken.append("%s must be true or false (got %s)" % (name, value))
        return None


def enroll_mfa(enroll_user_name=None, enroll_mode=None, enroll_code_1=None, enroll_code_2=None, enroll_force=None):
    """enroll_mfa.yml's variables as iam_mfa_device's options (user_name, generate_codes, force) and what the play derives from them.

    The two codes are checked here but never returned (the pre-flight's result is printed at -v): the play gives them to
    iam_mfa_device itself when codes_given.
    """
    rules = _Rules()
    user_name = _user_name(rules, enroll_user_name, "enroll_user_name")
    mode = str(_given(enroll_mode, "person"))
    rules.require(mode in ("person", "unattended"), "enroll_mode must be person or unattended (got %s)" % mode)
    codes = [str(code) for code in (enroll_code_1, enroll_code_2) if code is not None]
    rules.require(len(codes) != 1 and (not codes or mode == "person"), "enroll_code_1 and enroll_code_2 go together, and only with enroll_mode person")
    rules.require(len(codes) != 2 or (all(validation.AUTH_CODE.fullmatch(code) for code in codes) and codes[0] != codes[1]),
                  "enroll_code_1 and enroll_code_2 must be two different 6-digit codes")
    unattended = mode == "unattended"
    return rules.checked({
        "user_name": user_name,
        "mode": mode,
        "generate_codes": unattended,
        "codes_given": bool(codes),
        # The secret file is <enroll_secret_dir>/<account id><secret_file_suffix>; the account is known after the pre-flight.
        "secret_file_suffix": "-%s-mfa.%s" % (user_name, "seed" if unattended else "png"),
        "force": _boolean(rules, _given(enroll_force, False), "enroll_force"),
    })


def reset_mfa(reset_user_name=None, mfa_serial=None):
    """reset_mfa.yml's variables as iam_mfa_device's user_name; mfa_serial (the caller's device, for its MFA session) is only checked."""
    rules = _Rules()
    user_name = _user_name(rules, reset_user_name, "reset_user_name")
    rules.require(mfa_serial is None or (isinstance(mfa_serial, str) and validation.SERIAL_NUMBER.fullmatch(mfa_serial)),
                  "mfa_serial must be the ARN or serial number of the caller's MFA device (got %s)" % _given(mfa_serial, ""))
    return rules.checked({"user_name": user_name})


PLAYBOOKS = {"offboard": offboard, "orphan_cleanup": orphan_cleanup, "mfa_audit": mfa_audit, "root_credentials_audit": root_credentials_audit,
             "enroll_mfa": enroll_mfa, "reset_mfa": reset_mfa}
# Those that also take the pre-flight's fan-out accounts (preflight fan_out).
WITH_ACCOUNTS = ("root_credentials_audit",)


def settings(playbook, values, accounts=None):
    """The module options of ``playbook`` (a key of PLAYBOOKS) from its variables ``values`` (and the fan-out ``accounts``, for
    those of WITH_ACCOUNTS); IamGuardError naming every broken rule."""
    if playbook not in PLAYBOOKS:
        raise IamGuardError("settings.playbook must be one of %s (got %r)" % (", ".join(sorted(PLAYBOOKS)), playbook))
    if playbook in WITH_ACCOUNTS:
        return PLAYBOOKS[playbook](accounts, **values)
    return PLAYBOOKS[playbook](**values)
