"""STS AssumeRoot as AWS answers it: who may call it, every refusal, the task policy's limits, the session's expiry."""

import time

import pytest

from tests.simulator import root, seed

from .conftest import NO_RETRIES
from .helpers import aws_error
from .test_organizations import member_client

POLICY = "arn:aws:iam::aws:policy/root-task/"
AUDIT, DELETE, PASSWORD = "IAMAuditRootUserCredentials", "IAMDeleteRootUserCredentials", "IAMCreateRootUserPassword"
# Each call a root session might make, with the arguments it needs ("key", "certificate", "serial" are filled in).
ROOT_CALLS = {
    "GetUser": ("get_user", {}),
    "CreateLoginProfile": ("create_login_profile", {}),
    "GetLoginProfile": ("get_login_profile", {}),
    "ListAccessKeys": ("list_access_keys", {}),
    "GetAccessKeyLastUsed": ("get_access_key_last_used", {"AccessKeyId": "key"}),
    "ListSigningCertificates": ("list_signing_certificates", {}),
    "ListMFADevices": ("list_mfa_devices", {}),
    "GetAccountSummary": ("get_account_summary", {}),
    "DeactivateMFADevice": ("deactivate_mfa_device", {"SerialNumber": "hardware"}),
    "DeleteVirtualMFADevice": ("delete_virtual_mfa_device", {"SerialNumber": "orphan"}),
    "DeleteAccessKey": ("delete_access_key", {"AccessKeyId": "key"}),
    "DeleteSigningCertificate": ("delete_signing_certificate", {"CertificateId": "certificate"}),
    "DeleteLoginProfile": ("delete_login_profile", {}),
    "ListVirtualMFADevices": ("list_virtual_mfa_devices", {}),
    "ListUsers": ("list_users", {}),
    "CreateUser": ("create_user", {"UserName": "intruder"}),
    "CreateAccessKey": ("create_access_key", {}),
}


@pytest.fixture
def org(sim):
    return seed.seed_organization(sim, delegated_admin="staging")


def assume_root(sts, account, policy=AUDIT, **kwargs):
    return sts.assume_root(TargetPrincipal=account, TaskPolicyArn={"arn": POLICY + policy}, **kwargs)["Credentials"]


def session_client(sim, credentials, service="iam"):
    return sim.client(service, config=NO_RETRIES, access_key=credentials["AccessKeyId"], secret_key=credentials["SecretAccessKey"],
                      session_token=credentials["SessionToken"])


def _denial(account, action, resource=None):
    return (f"User: arn:aws:iam::{account}:root is not authorized to perform: iam:{action} on resource: "
            f"{resource or f'arn:aws:iam::{account}:root'} because no session policy allows the iam:{action} action")


def test_management_account_gets_a_root_session_in_a_member(sim, sts, org):
    dev = org["accounts"]["dev"]
    before = time.time()
    credentials = assume_root(sts, dev, DurationSeconds=600)
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    assert before + 595 <= credentials["Expiration"].timestamp() <= time.time() + 601
    identity = session_client(sim, credentials, "sts").get_caller_identity()
    assert (identity["Arn"], identity["Account"], identity["UserId"]) == (f"arn:aws:iam::{dev}:root", dev, dev)
    assert session_client(sim, credentials).get_user()["User"]["Arn"] == f"arn:aws:iam::{dev}:root"
    by_arn = assume_root(sts, f"arn:aws:iam::{dev}:root")  # TargetPrincipal: an account id or the account's root ARN
    assert session_client(sim, by_arn, "sts").get_caller_identity()["Account"] == dev


def test_default_duration_is_the_maximum(sts, org):
    expiration = assume_root(sts, org["accounts"]["dev"])["Expiration"].timestamp()
    assert time.time() + 890 <= expiration <= time.time() + 901


def test_iam_delegated_administrator_may_assume_root(sim, org):
    admin = member_client(sim, org["accounts"]["staging"], "sts")
    credentials = assume_root(admin, org["accounts"]["sandbox"])
    assert session_client(sim, credentials, "sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{org['accounts']['sandbox']}:root"


def _refusal(sts, target, policy=AUDIT, **kwargs):
    return aws_error(sts.assume_root, TargetPrincipal=target, TaskPolicyArn={"arn": POLICY + policy}, **kwargs)


def test_refusals_name_the_reason(sim, sts, org):
    dev, management = org["accounts"]["dev"], org["management_account_id"]
    code, message, status = _refusal(sts, management)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: arn:aws:sts::{management}:user/moto is not authorized to perform: sts:AssumeRoot on resource: "
                              f"arn:aws:iam::{management}:root")
    assert "management account cannot be the target" in message
    code, message, status = _refusal(sts, "999999999999")
    assert (code, status) == ("AccessDenied", 403) and "999999999999 is not a member of the organization" in message
    code, message, status = _refusal(sts, dev, "IAMFullAccess")
    assert (code, status) == ("ValidationError", 400) and POLICY + "IAMFullAccess" in message
    assert _refusal(sts, dev, DurationSeconds=901) == (
        "ValidationError", "1 validation error detected: Value '901' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 900", 400)
    code, message, status = _refusal(sts, "arn:aws:iam::123:role/x")
    assert (code, status) == ("ValidationError", 400) and "TargetPrincipal" in message


def test_callers_that_may_not_assume_root(sim, org):
    dev = org["accounts"]["dev"]
    member = member_client(sim, org["accounts"]["sandbox"], "sts")  # a member that is not IAM's delegated administrator
    code, message, dummy = _refusal(member, dev)
    assert code == "AccessDenied" and "neither in the organization's management account nor" in message
    outsider = member_client(sim, "999999999999", "sts")
    assert _refusal(outsider, dev)[0] == "AccessDenied"
    root_keys = sim.root_credentials()  # AWS: root user credentials cannot call AssumeRoot
    code, message, dummy = _refusal(sim.client("sts", config=NO_RETRIES, **root_keys), dev)
    assert code == "AccessDenied" and "root user credentials" in message
    root_session = session_client(sim, assume_root(sim.client("sts"), dev), "sts")
    assert _refusal(root_session, org["accounts"]["staging"])[0] == "AccessDenied"


def test_refused_until_root_sessions_are_enabled(sim, sts):
    org = seed.seed_organization(sim, root_features=False)
    dev = org["accounts"]["dev"]
    sim.client("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    sim.client("iam").enable_organizations_root_credentials_management()
    code, message, dummy = _refusal(sts, dev)
    assert code == "AccessDenied" and "RootSessions" in message
    sim.client("iam").enable_organizations_root_sessions()
    assert assume_root(sts, dev)["AccessKeyId"]
    sim.client("iam").disable_organizations_root_sessions()
    assert _refusal(sts, dev)[0] == "AccessDenied"


def _arguments(kwargs, made):
    values = {"key": made["access_key_ids"][0], "certificate": made["certificate_ids"][0], **made["mfa_serials"]}
    return {name: values.get(value, value) for name, value in kwargs.items()}


@pytest.mark.parametrize("policy", sorted(root.TASK_POLICIES))
def test_a_session_may_make_only_its_task_policy_iam_calls(sim, sts, org, policy):
    dev = org["accounts"]["dev"]
    made = seed.seed_root_credentials(sim, dev, login_profile=policy != PASSWORD, mfa_devices=("virtual", "hardware"))
    made["mfa_serials"]["orphan"] = seed.make_orphan(sim.client("iam", **sim.root_credentials(dev)), "spare")["serial_number"]
    iam = session_client(sim, assume_root(sts, dev, policy))
    allowed = root.TASK_POLICIES[policy]
    for action, (call, kwargs) in ROOT_CALLS.items():
        if action in allowed:
            getattr(iam, call)(**_arguments(kwargs, made))
        else:
            code, message, status = aws_error(getattr(iam, call), **_arguments(kwargs, made))
            assert (code, status) == ("AccessDenied", 403), action
            expected = _denial(dev, action, f"arn:aws:iam::{dev}:user/intruder" if action == "CreateUser" else None)
            assert message == expected


def test_the_task_policy_limits_to_root_itself(sim, sts, org):
    dev = org["accounts"]["dev"]
    seed.make_user(sim.client("iam", **sim.root_credentials(dev)), "alice", access_keys=1)
    iam = session_client(sim, assume_root(sts, dev, DELETE))
    code, message, dummy = aws_error(iam.list_access_keys, UserName="alice")
    assert code == "AccessDenied" and message == _denial(dev, "ListAccessKeys", f"arn:aws:iam::{dev}:user/alice")
    assert _denial(dev, "ListVirtualMFADevices") == aws_error(iam.list_virtual_mfa_devices)[1]  # no ListVirtualMFADevices in the delete policy


def test_other_services_are_denied_to_a_root_session(sim, sts, org):
    credentials = assume_root(sts, org["accounts"]["staging"])  # the delegated administrator's own root, in a session
    code, message, dummy = aws_error(session_client(sim, credentials, "organizations").list_accounts)
    assert code == "AccessDeniedException" and "organizations:ListAccounts" in message
    assert aws_error(session_client(sim, credentials, "sts").get_session_token)[0] == "AccessDenied"


def test_a_session_expires(sim, sts, org):
    credentials = assume_root(sts, org["accounts"]["dev"], DurationSeconds=1)
    iam = session_client(sim, credentials)
    assert iam.get_user()["User"]["UserId"] == org["accounts"]["dev"]
    time.sleep(1.1)
    expired = ("ExpiredToken", "The security token included in the request is expired", 403)
    assert aws_error(iam.get_user) == expired
    assert aws_error(session_client(sim, credentials, "sts").get_caller_identity) == expired


def test_reset_forgets_root_sessions(sim, sts, org):
    credentials = assume_root(sts, org["accounts"]["dev"])
    sim.reset()
    assert session_client(sim, credentials, "sts").get_caller_identity()["Arn"] != f"arn:aws:iam::{org['accounts']['dev']}:root"
