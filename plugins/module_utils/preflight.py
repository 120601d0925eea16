# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks' pre-flight, before any AWS call: which hosts a run acts on, and the variables of each.

A run given an inventory acts only on the hosts of its group aws_accounts. An inventory
source that failed (the accounts plugin records its failures in group all), or an
inventory given with no host in aws_accounts, fails the run. With no inventory at all the
run acts on the account of the caller's own credentials, from localhost, and says so; so
does a run with aws_target_caller_account true and an inventory without aws_accounts (an
AWX inventory of localhost alone).
"""

from __future__ import annotations

import os
import re

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

GROUP = "aws_accounts"
CALLER_OPTION = "aws_target_caller_account"
# A line of an inventory file that holds nothing: blank, a comment, a YAML document marker.
_EMPTY_LINE = re.compile(r"\s*(?:[#;].*|---|\.\.\.)?\s*")


def source_holds_something(source):
    """Whether an inventory source is one: a host list ('a,b'), a folder, or a file with more than comments."""
    source = str(source)
    if "," in source:
        return True
    if os.path.isdir(source):
        return True
    if not os.path.isfile(source):
        return False
    with open(source, encoding="utf-8", errors="replace") as handle:
        return any(not _EMPTY_LINE.fullmatch(line) for line in handle)


def targets(host, groups, sources, errors, caller_account):
    """Whether ``host`` is a target of this run, and the sentence that says where the run acts; IamGuardError when unclear."""
    if errors:
        raise IamGuardError("The inventory failed, so this run acts nowhere (no host proceeds, nothing was called in AWS): %s"
                            % "; ".join(str(error) for error in errors))
    caller_account = validation.boolean(caller_account, CALLER_OPTION)
    accounts = list(groups.get(GROUP) or [])
    given = [str(source) for source in sources or [] if source_holds_something(source)]
    if accounts:
        if caller_account:
            raise IamGuardError("%s is for an inventory without group %s, and this one names %d hosts in it (%s): give one or the "
                                "other. Nothing was called in AWS." % (CALLER_OPTION, GROUP, len(accounts), ", ".join(accounts)))
        return host in accounts, "This run acts on the %d hosts of group %s: %s." % (len(accounts), GROUP, ", ".join(accounts))
    caller = "the account of the caller's own credentials, from localhost"
    if caller_account:
        return host == "localhost", "%s is true: this run acts on %s." % (CALLER_OPTION, caller)
    if given:
        raise IamGuardError("The inventory (%s) has no host in group %s, so this run acts nowhere (no host proceeds, nothing was "
                            "called in AWS). Check the inventory, or set %s=true to act on %s." % (", ".join(given), GROUP, CALLER_OPTION, caller))
    return host == "localhost", "No inventory was given: this run acts on %s." % caller


def account_variables(host, aws_role_arn=None, aws_account_id=None, mfa_serial=None, mfa_token_code=None):
    """Refuse a host's malformed account variables (IamGuardError naming the host and the variable)."""
    rules = [
        (aws_role_arn is None or (isinstance(aws_role_arn, str) and validation.ROLE_ARN.fullmatch(aws_role_arn)),
         "aws_role_arn must be an IAM role ARN (arn:aws:iam::<12-digit account id>:role/<name>)"),
        (aws_account_id is None or validation.ACCOUNT_ID.fullmatch(str(aws_account_id)), "aws_account_id must be a 12-digit AWS account id"),
        ((mfa_serial is None) == (mfa_token_code is None), "mfa_serial and mfa_token_code go together (both or neither)"),
        (mfa_token_code is None or validation.AUTH_CODE.fullmatch(str(mfa_token_code)), "mfa_token_code must be the 6 digits the MFA device shows"),
    ]
    broken = [message for ok, message in rules if not ok]
    if broken:
        raise IamGuardError("%s: %s. Nothing was called in AWS." % (host, "; ".join(broken)))


def fan_out_accounts(host, groups, hostvars):
    """The accounts one module call acts on from ``host`` (localhost): [{name, account_id, role_arn, management}].

    The hosts of aws_accounts, each host's account variables checked (an account id missing is read from
    aws_role_arn); with no aws_accounts, the caller's own account (name localhost, account_id and role_arn null).
    """
    if host != "localhost":
        raise IamGuardError("%s: this playbook runs from localhost only (hosts: localhost), over the hosts of group %s." % (host, GROUP))
    if not groups.get(GROUP):
        return [{"name": "localhost", "account_id": None, "role_arn": None, "management": False}]
    accounts = []
    for name in groups[GROUP]:
        variables = hostvars[name]
        given = {key: variables.get(key) for key in ("aws_role_arn", "aws_account_id", "mfa_serial", "mfa_token_code")}
        account_variables(name, **{key: value for key, value in given.items() if value is not None})
        role_arn, account_id = given["aws_role_arn"], given["aws_account_id"]
        if account_id is None and role_arn:  # checked above: the role's own account
            account_id = validation.ROLE_ARN.fullmatch(role_arn).group(1)
        management = validation.boolean(variables.get("aws_is_management_account", False), "aws_is_management_account")
        accounts.append({"name": name, "account_id": None if account_id is None else str(account_id), "role_arn": role_arn, "management": management})
    return accounts
