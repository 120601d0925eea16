# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""organizations.py against a stubbed Organizations client: every call, its page size and its order."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils import calls, organizations
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.validation import InvalidInput

ROOT = "r-ab12"
WORKLOADS = "ou-ab12-11111111"
PROD = "ou-ab12-22222222"
SANDBOX = "ou-ab12-33333333"
MANAGEMENT = "111111111111"
PAGE = {"MaxResults": 20}  # Organizations' largest page


@pytest.fixture
def org():
    return boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def stub(org):  # pylint: disable=redefined-outer-name
    stubber = Stubber(org)
    stubber.activate()
    yield stubber
    stubber.deactivate()
    stubber.assert_no_pending_responses()


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(calls, "RETRY_DELAY", 0)


def account(account_id, name, state="ACTIVE"):
    return {"Id": account_id, "Arn": "arn:aws:organizations::%s:account/o-abcdefghij/%s" % (MANAGEMENT, account_id),
            "Email": "%s@example.com" % name.replace(" ", ""), "Name": name, "State": state, "Status": state}


def ou(ou_id, name):
    return {"Id": ou_id, "Arn": "arn:aws:organizations::%s:ou/o-abcdefghij/%s" % (MANAGEMENT, ou_id), "Name": name}


def children(stub, parent, accounts=(), ous=()):  # pylint: disable=redefined-outer-name
    stub.add_response("list_accounts_for_parent", {"Accounts": list(accounts)}, dict(PAGE, ParentId=parent))
    stub.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": list(ous)}, dict(PAGE, ParentId=parent))


def test_describe_organization(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_response("describe_organization", {"Organization": {
        "Id": "o-abcdefghij", "Arn": "arn:aws-us-gov:organizations::%s:organization/o-abcdefghij" % MANAGEMENT, "FeatureSet": "ALL",
        "MasterAccountId": MANAGEMENT, "MasterAccountArn": "arn:aws-us-gov:organizations::%s:account/o-abcdefghij/%s" % (MANAGEMENT, MANAGEMENT),
        "MasterAccountEmail": "root@example.com"}})
    assert organizations.describe_organization(org) == {
        "id": "o-abcdefghij", "arn": "arn:aws-us-gov:organizations::%s:organization/o-abcdefghij" % MANAGEMENT, "partition": "aws-us-gov",
        "feature_set": "ALL", "management_account_id": MANAGEMENT, "management_account_email": "root@example.com",
    }


def test_walk_from_the_root_gives_every_account_its_ou_path(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_response("list_roots", {"Roots": [{"Id": ROOT, "Arn": "arn:aws:organizations::1:root/o-a/r-ab12", "Name": "Root"}]}, PAGE)
    children(stub, ROOT, [account(MANAGEMENT, "management")], [ou(WORKLOADS, "Workloads"), ou(SANDBOX, "Sandbox")])
    children(stub, WORKLOADS, [account("222222222222", "dev")], [ou(PROD, "Prod")])
    children(stub, SANDBOX, [account("444444444444", "sandbox"), account("555555555555", "Old", "SUSPENDED")])
    children(stub, PROD, [account("333333333333", "staging")])
    listed = organizations.list_accounts(org)
    assert [(a["name"], a["ou_path"], a["parent_id"]) for a in listed] == [
        ("dev", "/Workloads", WORKLOADS), ("management", "/", ROOT), ("sandbox", "/Sandbox", SANDBOX), ("staging", "/Workloads/Prod", PROD),
    ]
    assert listed[0] == {"id": "222222222222", "name": "dev", "email": "dev@example.com", "status": "ACTIVE", "ou_path": "/Workloads",
                         "parent_id": WORKLOADS}


def test_suspended_accounts_are_listed_when_only_active_is_off(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_response("list_roots", {"Roots": [{"Id": ROOT}]}, PAGE)
    children(stub, ROOT, [account("555555555555", "Old", "SUSPENDED"), account("666666666666", "new", "PENDING_ACTIVATION")])
    listed = organizations.list_accounts(org, only_active=False)
    assert [(a["name"], a["status"]) for a in listed] == [("new", "PENDING_ACTIVATION"), ("Old", "SUSPENDED")]


def test_status_is_read_where_state_is_missing(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_response("list_roots", {"Roots": [{"Id": ROOT}]}, PAGE)
    old_style = {"Id": "222222222222", "Name": "dev", "Email": "dev@example.com", "Status": "ACTIVE"}
    children(stub, ROOT, [old_style])
    assert [a["status"] for a in organizations.list_accounts(org)] == ["ACTIVE"]


def test_every_page_is_read(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_response("list_roots", {"Roots": [{"Id": ROOT}]}, PAGE)
    first = [account("2%011d" % n, "acct-%02d" % n) for n in range(20)]
    stub.add_response("list_accounts_for_parent", {"Accounts": first, "NextToken": "t1"}, dict(PAGE, ParentId=ROOT))
    # Organizations may answer an empty page that still has a NextToken: reading goes on.
    stub.add_response("list_accounts_for_parent", {"Accounts": [], "NextToken": "t2"}, dict(PAGE, ParentId=ROOT, NextToken="t1"))
    stub.add_response("list_accounts_for_parent", {"Accounts": [account("399999999999", "last")]}, dict(PAGE, ParentId=ROOT, NextToken="t2"))
    stub.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": [ou(WORKLOADS, "W")], "NextToken": "o1"},
                      dict(PAGE, ParentId=ROOT))
    stub.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": [ou(SANDBOX, "S")]},
                      dict(PAGE, ParentId=ROOT, NextToken="o1"))
    children(stub, WORKLOADS)
    children(stub, SANDBOX)
    assert len(organizations.list_accounts(org)) == 21


def test_include_ous_walks_up_for_the_path_and_down_only_their_subtrees(org, stub):  # pylint: disable=redefined-outer-name
    # PROD's path: its name, then its parent WORKLOADS (name, parent: the root); SANDBOX: its name and the root.
    stub.add_response("describe_organizational_unit", {"OrganizationalUnit": ou(PROD, "Prod")}, {"OrganizationalUnitId": PROD})
    stub.add_response("list_parents", {"Parents": [{"Id": WORKLOADS, "Type": "ORGANIZATIONAL_UNIT"}]}, dict(PAGE, ChildId=PROD))
    stub.add_response("describe_organizational_unit", {"OrganizationalUnit": ou(WORKLOADS, "Workloads")}, {"OrganizationalUnitId": WORKLOADS})
    stub.add_response("list_parents", {"Parents": [{"Id": ROOT, "Type": "ROOT"}]}, dict(PAGE, ChildId=WORKLOADS))
    stub.add_response("describe_organizational_unit", {"OrganizationalUnit": ou(SANDBOX, "Sandbox")}, {"OrganizationalUnitId": SANDBOX})
    stub.add_response("list_parents", {"Parents": [{"Id": ROOT, "Type": "ROOT"}]}, dict(PAGE, ChildId=SANDBOX))
    children(stub, PROD, [account("333333333333", "staging")])
    children(stub, SANDBOX, [account("444444444444", "sandbox")])
    listed = organizations.list_accounts(org, include_ous=[PROD, SANDBOX])
    assert [(a["name"], a["ou_path"]) for a in listed] == [("sandbox", "/Sandbox"), ("staging", "/Workloads/Prod")]


def test_an_included_ou_inside_another_is_walked_once(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_response("describe_organizational_unit", {"OrganizationalUnit": ou(WORKLOADS, "Workloads")}, {"OrganizationalUnitId": WORKLOADS})
    stub.add_response("list_parents", {"Parents": [{"Id": ROOT, "Type": "ROOT"}]}, dict(PAGE, ChildId=WORKLOADS))
    # PROD's parent WORKLOADS is already known: no second walk up for it.
    stub.add_response("describe_organizational_unit", {"OrganizationalUnit": ou(PROD, "Prod")}, {"OrganizationalUnitId": PROD})
    stub.add_response("list_parents", {"Parents": [{"Id": WORKLOADS, "Type": "ORGANIZATIONAL_UNIT"}]}, dict(PAGE, ChildId=PROD))
    children(stub, WORKLOADS, [account("222222222222", "dev")], [ou(PROD, "Prod")])
    children(stub, PROD, [account("333333333333", "staging")])
    listed = organizations.list_accounts(org, include_ous=[WORKLOADS, PROD])
    assert [(a["name"], a["ou_path"]) for a in listed] == [("dev", "/Workloads"), ("staging", "/Workloads/Prod")]


def test_an_unknown_included_ou_names_the_option(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_client_error("describe_organizational_unit", "OrganizationalUnitNotFoundException", "not found", 400,
                          expected_params={"OrganizationalUnitId": PROD})
    with pytest.raises(InvalidInput) as caught:
        organizations.list_accounts(org, include_ous=[PROD])
    assert caught.value.option == "include_ous" and PROD in caught.value.message


def test_not_in_an_organization_says_whose_credentials_to_use(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_client_error("describe_organization", "AWSOrganizationsNotInUseException",
                          "Your account is not a member of an organization.", 400)
    with pytest.raises(IamGuardError) as caught:
        organizations.describe_organization(org)
    message = caught.value.message
    assert "AWSOrganizationsNotInUseException" in message and "management account" in message and "delegated administrator" in message


def test_access_denied_names_the_call_the_permissions_and_the_accounts_allowed(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_client_error("list_roots", "AccessDeniedException",
                          "You don't have permissions to access this resource.", 400, expected_params=PAGE)
    with pytest.raises(IamGuardError) as caught:
        organizations.list_accounts(org)
    message = caught.value.message
    assert "refused ListRoots" in message and "You don't have permissions" in message
    assert "management account" in message and "delegated administrator" in message
    for permission in organizations.PERMISSIONS + organizations.INCLUDE_OUS_PERMISSIONS:
        assert permission in message


def test_throttling_is_retried(org, stub):  # pylint: disable=redefined-outer-name
    stub.add_client_error("describe_organization", "TooManyRequestsException", "slow down", 400)
    answer = {"Organization": {"Id": "o-abcdefghij", "Arn": "arn:aws:organizations::1:organization/o-a", "MasterAccountId": MANAGEMENT}}
    stub.add_response("describe_organization", answer)
    assert organizations.describe_organization(org)["management_account_id"] == MANAGEMENT


def test_an_unreachable_endpoint_says_so(monkeypatch):
    monkeypatch.setattr(calls, "RETRY_ATTEMPTS", 2)
    # Nothing listens on port 9 of this host: every attempt is refused at once.
    unreachable = boto3.client("organizations", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                               aws_access_key_id="x", aws_secret_access_key="x")
    with pytest.raises(IamGuardError) as caught:
        organizations.describe_organization(unreachable)
    assert isinstance(caught.value.exception, EndpointConnectionError)
    assert caught.value.message.startswith("AWS Organizations could not be reached") and "endpoint_url" in caught.value.message


ACCOUNTS = [
    {"id": MANAGEMENT, "name": "management", "email": "m@example.com", "status": "ACTIVE", "ou_path": "/", "parent_id": ROOT},
    {"id": "222222222222", "name": "dev", "email": "d@example.com", "status": "ACTIVE", "ou_path": "/Workloads", "parent_id": WORKLOADS},
    {"id": "333333333333", "name": "Sandbox-Alice", "email": "a@example.com", "status": "ACTIVE", "ou_path": "/Sandbox", "parent_id": SANDBOX},
    {"id": "444444444444", "name": "staging", "email": "s@example.com", "status": "ACTIVE", "ou_path": "/Workloads/Prod", "parent_id": PROD},
]


def names(accounts):
    return [a["name"] for a in accounts]


def test_select_leaves_out_the_management_account_by_default():
    assert names(organizations.select_accounts(ACCOUNTS, management_account_id=MANAGEMENT)) == ["dev", "Sandbox-Alice", "staging"]
    assert names(organizations.select_accounts(ACCOUNTS, include_management=True, management_account_id=MANAGEMENT)) == names(ACCOUNTS)


def test_select_excludes_ids_and_name_patterns_ignoring_case():
    selected = organizations.select_accounts(ACCOUNTS, exclude_ids=["444444444444"], exclude_names=["sandbox-*"],
                                             management_account_id=MANAGEMENT)
    assert names(selected) == ["dev"]
    # A pattern matches the whole name: "dev*" is not "*dev*".
    assert names(organizations.select_accounts(ACCOUNTS, exclude_names=["*alice"], management_account_id=MANAGEMENT)) == ["dev", "staging"]
    assert names(organizations.select_accounts(ACCOUNTS, exclude_names=["ali"], management_account_id=MANAGEMENT)) == [
        "dev", "Sandbox-Alice", "staging"]


@pytest.mark.parametrize("options, option", [
    ({"include_ous": ["r-ab12"]}, "include_ous"),
    ({"include_ous": ["ou-AB12-11111111"]}, "include_ous"),
    ({"include_ous": ["ou-ab12-11111111\n"]}, "include_ous"),
    ({"exclude_ids": ["12345678901"]}, "exclude_ids"),
    ({"exclude_ids": [12345678901]}, "exclude_ids"),  # 012345678901 unquoted in YAML: the leading 0 is lost
    ({"exclude_ids": ["1234567890123"]}, "exclude_ids"),
    ({"exclude_ids": ["arn:aws:iam::123456789012:root"]}, "exclude_ids"),
    ({"exclude_names": [""]}, "exclude_names"),
    ({"role_name": "arn:aws:iam::123456789012:role/x"}, "role_name"),
    ({"role_name": "has space"}, "role_name"),
    ({"role_name": "x" * 65}, "role_name"),
])
def test_bad_options_are_refused_naming_the_option(options, option):
    with pytest.raises(InvalidInput) as caught:
        organizations.checked_options(**options)
    assert caught.value.option == option and caught.value.message.startswith("Invalid %s " % option)


def test_good_options_come_back_clean():
    assert organizations.checked_options([WORKLOADS], [222222222222, "333333333333"], ["sandbox-*"], "team/auditor") == {
        "include_ous": [WORKLOADS], "exclude_ids": ["222222222222", "333333333333"], "exclude_names": ["sandbox-*"], "role_name": "team/auditor",
    }


ORGANIZATION = {"id": "o-abcdefghij", "partition": "aws", "management_account_id": MANAGEMENT}


def test_hosts_carry_the_variables_the_playbooks_read():
    built = {host["name"]: host for host in organizations.hosts(ACCOUNTS, ORGANIZATION, "iamguard-auditor")}
    assert sorted(built) == ["dev", "management", "sandbox-alice", "staging"]
    assert built["staging"] == {"name": "staging", "groups": ["ou_workloads", "ou_workloads_prod"], "vars": {
        "aws_account_id": "444444444444", "aws_account_name": "staging", "aws_account_email": "s@example.com",
        "aws_account_status": "ACTIVE", "aws_ou_path": "/Workloads/Prod", "aws_parent_id": PROD,
        "aws_role_arn": "arn:aws:iam::444444444444:role/iamguard-auditor",
        "aws_management_account_id": MANAGEMENT, "aws_is_management_account": False,
    }}
    management = built["management"]
    assert management["groups"] == [] and management["vars"]["aws_is_management_account"] is True
    assert "aws_role_arn" not in management["vars"]


def test_host_names_are_sanitised_and_collisions_get_the_account_id():
    clash = [dict(ACCOUNTS[1], id="555555555555", name="Dev"), dict(ACCOUNTS[1], id="666666666666", name="  *** "),
             dict(ACCOUNTS[1], id="777777777777", name="Team Blue / Prod (EU)")]
    built = [host["name"] for host in organizations.hosts(ACCOUNTS[1:2] + clash, ORGANIZATION)]
    assert built == ["dev-222222222222", "dev-555555555555", "666666666666", "team-blue-prod-eu"]


def test_ou_groups_follow_the_whole_path():
    assert organizations.ou_groups("/") == []
    assert organizations.ou_groups("/Workloads/Prod EU") == ["ou_workloads", "ou_workloads_prod_eu"]
    # Two OUs called Prod in different places are different groups.
    assert organizations.ou_groups("/Sandbox/Prod")[-1] != organizations.ou_groups("/Workloads/Prod")[-1]
