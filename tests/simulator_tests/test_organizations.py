"""Organizations as AWS answers each kind of caller, the seeded organization, and IAM's root-access features."""

import json

import pytest

from tests.simulator import policies, seed

from .conftest import NO_RETRIES
from .helpers import aws_error

MANAGEMENT, OUTSIDER = "123456789012", "999999999999"
DENIED = ("AccessDeniedException", "You don't have permissions to access this resource.", 400)
NOT_IN_USE = ("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.", 400)
MEMBER_READS = (("list_accounts", {}), ("list_accounts_for_parent", {"ParentId": "root"}),
                ("list_organizational_units_for_parent", {"ParentId": "root"}), ("list_roots", {}),
                ("list_parents", {"ChildId": "account"}))


def member_client(sim, account, service="organizations"):
    """A client acting in `account` through its OrganizationAccountAccessRole, as AWS's member accounts are reached."""
    credentials = sim.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                                RoleSessionName="org-test")["Credentials"]
    return sim.client(service, config=NO_RETRIES, access_key=credentials["AccessKeyId"], secret_key=credentials["SecretAccessKey"],
                      session_token=credentials["SessionToken"])


def _read(client, org, call, kwargs):
    kwargs = {k: {"root": org["root_id"], "account": org["accounts"]["dev"]}.get(v, v) for k, v in kwargs.items()}
    return getattr(client, call)(**kwargs)


def _names(client):
    return sorted(account["Name"] for page in client.get_paginator("list_accounts").paginate() for account in page["Accounts"])


def test_seeded_organization_through_the_api(sim):
    org = seed.seed_organization(sim, ous={"Workloads/Prod": ["dev"], "Sandbox": ["sandbox"]})
    organizations = sim.client("organizations")
    assert org["management_account_id"] == MANAGEMENT
    assert org["organization_id"] == organizations.describe_organization()["Organization"]["Id"]
    assert org["root_id"] == organizations.list_roots()["Roots"][0]["Id"]
    assert sorted(org["accounts"]) == ["dev", "sandbox", "staging"] and MANAGEMENT not in org["accounts"].values()
    assert _names(organizations) == ["dev", "master", "sandbox", "staging"]
    assert org["ou_paths"] == {"dev": "/Workloads/Prod", "staging": "/", "sandbox": "/Sandbox"}
    assert organizations.list_parents(ChildId=org["accounts"]["dev"])["Parents"][0]["Id"] == org["ous"]["Prod"]
    assert organizations.list_parents(ChildId=org["ous"]["Prod"])["Parents"][0]["Id"] == org["ous"]["Workloads"]
    under_root = organizations.list_accounts_for_parent(ParentId=org["root_id"])["Accounts"]
    assert sorted(a["Name"] for a in under_root) == ["master", "staging"]
    assert sim.client("iam").list_organizations_features()["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    services = organizations.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [s["ServicePrincipal"] for s in services] == ["iam.amazonaws.com"]


def test_seed_refuses_bad_input_before_changing_anything(sim):
    with pytest.raises(ValueError, match="ghost"):
        seed.seed_organization(sim, ous={"Workloads": ["ghost"]})
    with pytest.raises(ValueError, match="Prod"):
        seed.seed_organization(sim, ous={"A/Prod": ["dev"], "B/Prod": ["staging"]})
    with pytest.raises(ValueError, match="ghost"):
        seed.seed_organization(sim, delegated_admin="ghost")
    assert aws_error(sim.client("organizations", config=NO_RETRIES).describe_organization)[0] == "AWSOrganizationsNotInUseException"


@pytest.mark.parametrize("call,kwargs", MEMBER_READS)
def test_member_account_reads_are_denied(sim, call, kwargs):
    org = seed.seed_organization(sim)
    member = member_client(sim, org["accounts"]["staging"])
    assert aws_error(lambda: _read(member, org, call, kwargs)) == DENIED


def test_member_account_can_describe_its_organization_but_not_change_it(sim):
    org = seed.seed_organization(sim)
    member = member_client(sim, org["accounts"]["dev"])
    assert member.describe_organization()["Organization"]["MasterAccountId"] == MANAGEMENT
    assert aws_error(member.create_account, AccountName="x", Email="x@example.com") == DENIED


@pytest.mark.parametrize("call,kwargs", MEMBER_READS)
def test_delegated_administrator_reads_the_organization(sim, call, kwargs):
    org = seed.seed_organization(sim, delegated_admin="staging")
    admin, management = member_client(sim, org["accounts"]["staging"]), sim.client("organizations")
    answer, expected = _read(admin, org, call, kwargs), _read(management, org, call, kwargs)
    for answered in (answer, expected):
        answered.pop("ResponseMetadata")
    assert answer == expected and answer
    assert _names(admin) == ["dev", "master", "sandbox", "staging"]
    assert aws_error(admin.create_account, AccountName="x", Email="x@example.com") == DENIED


@pytest.mark.parametrize("call,kwargs", MEMBER_READS[:1] + (("describe_organization", {}),))
def test_account_in_no_organization(sim, call, kwargs):
    seed.seed_organization(sim)
    outsider = member_client(sim, OUTSIDER)
    assert aws_error(getattr(outsider, call), **kwargs) == NOT_IN_USE


def test_reset_forgets_the_organization(sim):
    org = seed.seed_organization(sim)
    sim.reset()
    member = member_client(sim, org["accounts"]["dev"])
    assert aws_error(member.describe_organization) == NOT_IN_USE
    assert seed.seed_organization(sim)["management_account_id"] == MANAGEMENT


# -- IAM's centralized root access features ------------------------------------------------


def _feature_error(call, **kwargs):
    return aws_error(call, **kwargs)[0]


def test_features_need_an_organization_with_trusted_access(sim, iam):
    assert _feature_error(iam.list_organizations_features) == "OrganizationNotFoundException"
    seed.seed_organization(sim, root_features=False)
    for call in (iam.list_organizations_features, iam.enable_organizations_root_sessions):
        assert _feature_error(call) == "ServiceAccessNotEnabledException"
    sim.client("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    assert iam.list_organizations_features()["EnabledFeatures"] == []
    assert iam.enable_organizations_root_sessions()["EnabledFeatures"] == ["RootSessions"]
    assert iam.enable_organizations_root_credentials_management()["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    assert iam.disable_organizations_root_sessions()["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert iam.disable_organizations_root_credentials_management()["EnabledFeatures"] == []


def test_features_need_all_features_mode(sim, iam):
    sim.client("organizations").create_organization(FeatureSet="CONSOLIDATED_BILLING")
    assert _feature_error(iam.list_organizations_features) == "OrganizationNotInAllFeaturesModeException"


def test_features_from_member_and_delegated_administrator(sim):
    org = seed.seed_organization(sim, delegated_admin="staging")
    member, admin = member_client(sim, org["accounts"]["dev"], "iam"), member_client(sim, org["accounts"]["staging"], "iam")
    assert _feature_error(member.list_organizations_features) == "AccountNotManagementOrDelegatedAdministratorException"
    assert admin.list_organizations_features()["OrganizationId"] == org["organization_id"]
    assert _feature_error(admin.enable_organizations_root_sessions) == "CallerIsNotManagementAccountException"
    assert admin.disable_organizations_root_sessions()["EnabledFeatures"] == ["RootCredentialsManagement"]
    outsider = member_client(sim, OUTSIDER, "iam")
    assert _feature_error(outsider.list_organizations_features) == "OrganizationNotFoundException"


def test_service_control_policies_read_as_the_root_cleanup_reads_them(sim):
    """ListParents up to the root, ListPoliciesForTarget with the SCP filter, DescribePolicy: from the management account
    and from a delegated administrator; FullAWSAccess is attached to the root, each OU and each account."""
    org = seed.seed_organization(sim, ous={"Workloads/Prod": ["dev"]}, delegated_admin="sandbox")
    deny = [{"Sid": "NoRootCleanup", "Effect": "Deny", "Action": ["iam:Deactivate*"], "Resource": "*"}]
    policy_id = policies.attach_scp(sim, org["ous"]["Workloads"], deny, "no-root-cleanup")
    dev = org["accounts"]["dev"]
    for client in (sim.client("organizations"), member_client(sim, org["accounts"]["sandbox"])):
        chain = [dev]
        while not chain[-1].startswith("r-"):
            chain.append(client.list_parents(ChildId=chain[-1])["Parents"][0]["Id"])
        assert chain == [dev, org["ous"]["Prod"], org["ous"]["Workloads"], org["root_id"]]
        attached = {target: sorted(p["Id"] for p in client.list_policies_for_target(TargetId=target, Filter="SERVICE_CONTROL_POLICY")["Policies"])
                    for target in chain}
        assert attached == {dev: ["p-FullAWSAccess"], org["ous"]["Prod"]: ["p-FullAWSAccess"],
                            org["ous"]["Workloads"]: sorted(["p-FullAWSAccess", policy_id]), org["root_id"]: ["p-FullAWSAccess"]}
        described = client.describe_policy(PolicyId=policy_id)["Policy"]
        assert described["PolicySummary"]["Name"] == "no-root-cleanup" and json.loads(described["Content"])["Statement"] == deny
    assert aws_error(member_client(sim, dev).list_policies_for_target, TargetId=dev, Filter="SERVICE_CONTROL_POLICY")[0] == DENIED[0]
