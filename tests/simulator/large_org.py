"""An organization of hundreds of member accounts, seeded in seconds, for benchmarks and fan-out tests.

seed_organization (seed.py) makes each account through the API, as AWS would; a thousand
CreateAccount calls, each followed by IAM seeding through the API, take minutes. This fast
path writes moto's backends in this process instead (the Simulator must run in it): the
organization and its features through the API (a handful of calls), then per member the
account (moto's Organizations backend, as CreateAccount does, which also gives it the
OrganizationAccountAccessRole that AWS creates in every account made by CreateAccount), and its users. Every `planted`th
member gets the findings a report must show: a console user without MFA, an orphaned
virtual MFA device and a root access key.
"""

import datetime
import json

from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends

from . import realism, root

ACCESS_ROLE = "OrganizationAccountAccessRole"
TRUST_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                   "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]})
LONG_AGO = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def member_name(index):
    return f"member-{index:04d}"


def _seed_member(account, index, users, planted):
    """The member's role and users straight into moto's IAM backend; returns what was planted."""
    backend = iam_backends[account]["aws"]
    if not any(role.name == ACCESS_ROLE for role in backend.roles.values()):  # moto's CreateAccount makes it, as AWS does
        backend.create_role(ACCESS_ROLE, TRUST_POLICY, "/", None, "", [], None)
    for number in range(users):
        name = f"user-{number}"
        backend.create_user("us-east-1", name)
        backend.create_login_profile(name, "Not-a-real-password-1")
        if number or not planted:  # the first user of a planted account keeps no MFA: console_user_without_mfa
            serial = backend.create_virtual_mfa_device(name, "/").serial_number
            backend.enable_mfa_device(name, serial, "123456", "654321")
    made = {"console_users_without_mfa": [], "orphans": [], "root_access_keys": 0}
    if planted:
        made["console_users_without_mfa"].append("user-0")
        made["orphans"].append(backend.create_virtual_mfa_device(f"cancelled-{index}", "/").serial_number)
        root.seed_root(account, access_keys=[{"created": LONG_AGO}])
        made["root_access_keys"] = 1
    realism.backdate_mfa_devices(account, LONG_AGO)
    return made


def seed_large_organization(sim, members, users=5, planted_every=10, ou_paths=None):
    """`members` member accounts of an organization managed by moto's default account, `users` users each.

    Returns {organization_id, management_account_id, accounts: {name: id}, planted: {id: {...}}}. Root features are
    enabled (centralized root access), so the root credentials audit can run against the members.
    """
    organizations, iam = sim.client("organizations"), sim.client("iam")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    organizations.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    iam.enable_organizations_root_credentials_management()
    iam.enable_organizations_root_sessions()
    backend = organizations_backends[organization["MasterAccountId"]]["aws"]
    accounts, planted = {}, {}
    for index in range(members):
        name = member_name(index)
        account = backend.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
        accounts[name] = account
        made = _seed_member(account, index, users, planted_every and index % planted_every == 0)
        if made["orphans"]:
            planted[account] = made
    return {"organization_id": organization["Id"], "management_account_id": organization["MasterAccountId"], "accounts": accounts,
            "planted": planted, "ou_paths": ou_paths or {}}
