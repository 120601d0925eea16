# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The accounts of an AWS organization, read from AWS Organizations, as inventory hosts.

Plain functions over a boto3 Organizations client (no Ansible needed), used by the
``iamguard.aws.accounts`` inventory plugin.

How the accounts and their OU paths are read: a walk down the organization's tree, from
the root (or from each OU of ``include_ous``), with ListOrganizationalUnitsForParent and
ListAccountsForParent for every root or OU on the way. Each account is met under its own
parent, so its OU path comes with it. That costs two paginated reads per OU, however
many accounts there are; ListAccounts plus one ListParents per account (and one walk up
per OU for the names) would cost one call per account on top, and an organization has
far more accounts than OUs. With ``include_ous``, each named OU's own path comes from a
walk up to the root (DescribeOrganizationalUnit and ListParents per level, at most five
levels, shared between OUs), so the OUs outside those subtrees are never read.
"""

from __future__ import annotations

import collections
import fnmatch
import re

try:
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from botocore.exceptions import HTTPClientError
except ImportError:  # the inventory plugin checks for boto3/botocore first
    BotocoreConnectionError = HTTPClientError = Exception

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import ACCESS_DENIED_CODES, IamGuardError, error_code, error_message
from ansible_collections.iamguard.aws.plugins.module_utils.paging import read
from ansible_collections.iamguard.aws.plugins.module_utils.validation import ACCOUNT_ID, InvalidInput

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
ACTIVE = "ACTIVE"
ACCOUNTS_GROUP = "aws_accounts"

# What the inventory calls, for the docs and for the message when Organizations refuses.
PERMISSIONS = (
    "organizations:DescribeOrganization",
    "organizations:ListRoots",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
)
INCLUDE_OUS_PERMISSIONS = ("organizations:DescribeOrganizationalUnit", "organizations:ListParents")

# Identifier rules of the Organizations API reference (whole-string matches, ASCII).
OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
# A role name, optionally after its path ("path/name"), as it appears after "role/" in the ARN.
ROLE_NAME = re.compile(r"(?:[\w+=,.@-]{1,512}/)?[\w+=,.@-]{1,64}", re.ASCII)

# Who may read an organization: its management account, and any member registered as a delegated
# administrator for some AWS service (IAM, Security Hub, ...), which AWS lets read it.
WHO_MAY_READ = (
    "the organization's management account, or a member account registered as a delegated administrator for an AWS "
    "service (for example IAM), which may read the organization"
)
CREDENTIAL_OPTIONS = "options profile, access_key/secret_key/session_token, or assume_role_arn of a role there"
NOT_IN_USE = (
    "AWS Organizations answered that the account of these credentials is in no organization "
    "(AWSOrganizationsNotInUseException). The accounts inventory lists an organization's accounts: run it with credentials "
    "of " + WHO_MAY_READ + " (" + CREDENTIAL_OPTIONS + ")."
)
NOT_ALLOWED = (
    "AWS Organizations refused %s (%s: %s). Only " + WHO_MAY_READ + ", may list the accounts, and the credentials need %s. "
    "Run the inventory with credentials of such an account (" + CREDENTIAL_OPTIONS + ")."
)
UNREACHABLE = (
    "AWS Organizations could not be reached (%s): check the network path or proxy to the Organizations endpoint "
    "(organizations.us-east-1.amazonaws.com in the aws partition; set region for another partition) or endpoint_url."
)


# --- options -----------------------------------------------------------------------


def checked_options(include_ous=(), exclude_ids=(), exclude_names=(), role_name=DEFAULT_ROLE_NAME):
    """The plugin's list options as clean lists, or InvalidInput naming the option and its rule."""
    for ou_id in include_ous:
        if not isinstance(ou_id, str) or not OU_ID.fullmatch(ou_id):
            raise InvalidInput("include_ous", ou_id, "an OU id is 'ou-', 4 to 32 lower-case letters or digits, '-', and 8 to 32 more")
    ids = [str(account_id) if isinstance(account_id, int) else account_id for account_id in exclude_ids]
    for account_id in ids:
        if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
            raise InvalidInput("exclude_ids", account_id, "an AWS account id is exactly 12 digits (quote it in YAML: '012345678901')")
    for pattern in exclude_names:
        if not isinstance(pattern, str) or not pattern:
            raise InvalidInput("exclude_names", pattern, "give account names or shell patterns (*, ?, [...]) as non-empty strings")
    if not isinstance(role_name, str) or not ROLE_NAME.fullmatch(role_name):
        raise InvalidInput("role_name", role_name, "an IAM role name is 1 to 64 letters, digits and +=,.@_- (optionally after its path: 'path/name')")
    return {"include_ous": list(include_ous), "exclude_ids": ids, "exclude_names": list(exclude_names), "role_name": role_name}


# --- reads ------------------------------------------------------------------------


def _meaning(error, operation):
    """``error`` (an IamGuardError from call/read) said in words that tell the user what to do."""
    code = error_code(error.exception)
    if code == "AWSOrganizationsNotInUseException":
        return IamGuardError(NOT_IN_USE, error.exception)
    if code in ACCESS_DENIED_CODES:
        needed = ", ".join(PERMISSIONS + INCLUDE_OUS_PERMISSIONS)
        return IamGuardError(NOT_ALLOWED % (operation, code, error_message(error.exception), needed), error.exception)
    if isinstance(error.exception, (BotocoreConnectionError, HTTPClientError)):
        return IamGuardError(UNREACHABLE % error.exception, error.exception)
    return error


def _api_name(client, operation):
    return client.meta.method_to_api_mapping[operation]


def _call(client, operation, **params):
    try:
        return call(client, operation, _api_name(client, operation), **params)
    except IamGuardError as error:
        raise _meaning(error, _api_name(client, operation))


def _read(client, operation, result_key, **params):
    try:
        return read(client, operation, result_key, _api_name(client, operation), **params)
    except IamGuardError as error:
        raise _meaning(error, _api_name(client, operation))


def describe_organization(client):
    """The organization of the caller's account: {id, arn, partition, feature_set, management_account_id, management_account_email}."""
    organization = _call(client, "describe_organization")["Organization"]
    return {
        "id": organization["Id"],
        "arn": organization["Arn"],
        "partition": organization["Arn"].split(":")[1],
        "feature_set": organization.get("FeatureSet"),
        "management_account_id": organization["MasterAccountId"],
        "management_account_email": organization.get("MasterAccountEmail"),
    }


def _join(path, name):
    return path.rstrip("/") + "/" + name


def _ou_path(client, ou_id, paths):
    """The path of names from the root down to OU ``ou_id`` ("/Workloads/Prod"); ``paths`` remembers the OUs already walked."""
    if ou_id not in paths:
        try:
            name = _call(client, "describe_organizational_unit", OrganizationalUnitId=ou_id)["OrganizationalUnit"]["Name"]
        except IamGuardError as error:
            if error_code(error.exception) == "OrganizationalUnitNotFoundException":
                raise InvalidInput("include_ous", ou_id, "no OU of this organization has this id") from None
            raise
        parent = _read(client, "list_parents", "Parents", ChildId=ou_id)[0]
        above = "/" if parent["Type"] == "ROOT" else _ou_path(client, parent["Id"], paths)
        paths[ou_id] = _join(above, name)
    return paths[ou_id]


def _account(account, parent_id, ou_path):
    return {
        "id": account["Id"],
        "name": account["Name"],
        "email": account.get("Email"),
        # State replaces Status (which AWS retires in September 2026); either says ACTIVE the same way.
        "status": account.get("State") or account.get("Status"),
        "ou_path": ou_path,
        "parent_id": parent_id,
    }


def list_accounts(client, include_ous=(), only_active=True):
    """The organization's accounts, or only those under the OUs ``include_ous`` (recursively), sorted by name.

    Each is {id, name, email, status, ou_path ("/" directly under the root, else "/Workloads/Prod"),
    parent_id (the root or OU it sits in)}. ``only_active`` leaves out suspended, closed and
    not yet active accounts.
    """
    if include_ous:
        paths = {}
        pending = collections.deque((ou_id, _ou_path(client, ou_id, paths)) for ou_id in include_ous)
    else:
        pending = collections.deque((root["Id"], "/") for root in _read(client, "list_roots", "Roots"))
    accounts, walked = {}, set()
    while pending:
        parent_id, path = pending.popleft()
        if parent_id in walked:  # an OU of include_ous inside another one
            continue
        walked.add(parent_id)
        for account in _read(client, "list_accounts_for_parent", "Accounts", ParentId=parent_id):
            accounts[account["Id"]] = _account(account, parent_id, path)
        for ou in _read(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id):
            pending.append((ou["Id"], _join(path, ou["Name"])))
    listed = (account for account in accounts.values() if not only_active or account["status"] == ACTIVE)
    return sorted(listed, key=lambda account: (account["name"].lower(), account["id"]))


def select_accounts(accounts, exclude_ids=(), exclude_names=(), include_management=False, management_account_id=None):
    """``accounts`` without the excluded ones: ids in ``exclude_ids``, names matching a shell pattern of
    ``exclude_names`` (case-insensitive), and the management account unless ``include_management``."""
    excluded_ids = set(exclude_ids)
    if not include_management:
        excluded_ids.add(management_account_id)
    patterns = [pattern.lower() for pattern in exclude_names]
    return [
        account for account in accounts
        if account["id"] not in excluded_ids and not any(fnmatch.fnmatchcase(account["name"].lower(), p) for p in patterns)
    ]


# --- hosts ------------------------------------------------------------------------


def host_name(account_name):
    """The inventory host name of an account: its name in lower case, each run of characters other than
    letters, digits, '.', '_' and '-' replaced by '-', without leading or trailing '-'."""
    return re.sub(r"[^a-z0-9._-]+", "-", account_name.lower()).strip("-")


def ou_groups(ou_path):
    """The groups of an OU path, outermost first: "/Workloads/Prod" -> ["ou_workloads", "ou_workloads_prod"].

    A group is named after the OU's whole path, so two OUs of the same name in different places
    stay apart; each OU's group is a child of its parent OU's group.
    """
    groups, name = [], "ou"
    for part in [part for part in ou_path.split("/") if part]:
        name += "_" + (re.sub(r"[^a-z0-9_]+", "_", part.lower()).strip("_") or "_")
        groups.append(name)
    return groups


def role_arn(partition, account_id, role_name):
    return "arn:%s:iam::%s:role/%s" % (partition, account_id, role_name)


def hosts(accounts, organization, role_name=DEFAULT_ROLE_NAME):
    """One host per account: [{"name", "groups" (OU groups, outermost first), "vars"}].

    The host name is the account's sanitised name (host_name); where several accounts share
    one, or it is empty, each of them is named "<name>-<account id>" (or the id alone).
    The management account gets no aws_role_arn: the role is created in member accounts,
    and the caller of the playbooks is expected to act in the management account itself.
    """
    names = collections.Counter(host_name(account["name"]) for account in accounts)
    management_id = organization["management_account_id"]
    result = []
    for account in accounts:
        name = host_name(account["name"])
        if not name or names[name] > 1:
            name = "-".join(part for part in (name, account["id"]) if part)
        host_vars = {
            "aws_account_id": account["id"],
            "aws_account_name": account["name"],
            "aws_account_email": account["email"],
            "aws_account_status": account["status"],
            "aws_ou_path": account["ou_path"],
            "aws_parent_id": account["parent_id"],
            "aws_management_account_id": management_id,
            "aws_is_management_account": account["id"] == management_id,
        }
        if account["id"] != management_id:
            host_vars["aws_role_arn"] = role_arn(organization["partition"], account["id"], role_name)
        result.append({"name": name, "groups": ou_groups(account["ou_path"]), "vars": host_vars})
    return result
