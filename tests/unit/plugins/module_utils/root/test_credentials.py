# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root credentials: options, typing by serial, findings, the plan (plans/root.py), manifests (root/manifest.py), and whole runs over stubbed clients."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.plans import root as root_plan
from ansible_collections.iamguard.aws.plugins.module_utils.root import audit as ra, credentials as rc, manifest as root_manifest, organization as org
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import Clients
from ansible_collections.iamguard.aws.plugins.module_utils.validation import InvalidInput

MANAGEMENT = "123456789012"
MEMBER = "210987654321"
CALLER_ARN = "arn:aws:iam::%s:user/admin" % MANAGEMENT
VIRTUAL = "arn:aws:iam::%s:mfa/root-account-mfa-device" % MEMBER
PASSKEY = "arn:aws:iam::%s:u2f/root/key-ABCDEFGHIJKLMNOP" % MEMBER
HARDWARE = "GAHT12345678"
KEY_ID = "AKIAROOTKEY000000001"
CERT_ID = "CERTROOT0000000000000000000001"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
ALL = list(root_plan.CREDENTIAL_TYPES)
AUDIT_ARN = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE_ARN = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
ROOT_ID = "r-abcd"
SCP = "SERVICE_CONTROL_POLICY"


def params(**overrides):
    return dict({"account_id": MEMBER, "credential_types": ALL, "manifest_dir": None, "state": "absent"}, **overrides)


def facts(login=True, keys=(KEY_ID,), certs=(CERT_ID,), serials=(VIRTUAL,)):
    return {
        "login_profile": {"create_date": "2026-01-01T00:00:00+00:00"} if login else None,
        "access_keys": [{"access_key_id": k, "status": "Active", "create_date": None, "last_used_date": None, "last_used_service": None}
                        for k in keys],
        "signing_certificates": [{"certificate_id": c, "status": "Active", "upload_date": None} for c in certs],
        "mfa_devices": [{"serial_number": s, "type": rc.device_type(s), "enable_date": None} for s in serials],
    }


def actions(plan):
    return [(a.action, a.target, a.params) for a in plan]


# --- options -----------------------------------------------------------------------------


@pytest.mark.parametrize("account_id", ["12345678901", "1234567890123", "12345678901a", "", None, 210987654321, " 210987654321"])
def test_account_id_must_be_12_digits(account_id):
    with pytest.raises(InvalidInput) as raised:
        rc.root_options(params(account_id=account_id))
    assert raised.value.option == "account_id" and "12 digits" in raised.value.message and "Nothing was changed" in raised.value.message


def test_credential_types_keep_removal_order_and_refuse_empty():
    assert rc.root_options(params(credential_types=["mfa_devices", "login_profile"]))["credential_types"] == ["login_profile", "mfa_devices"]
    with pytest.raises(InvalidInput) as raised:
        rc.root_options(params(credential_types=[]))
    assert raised.value.option == "credential_types"


def test_manifest_dir_must_be_an_existing_folder(tmp_path):
    with pytest.raises(InvalidInput) as raised:
        rc.root_options(params(manifest_dir=str(tmp_path / "missing")))
    assert raised.value.option == "manifest_dir"
    assert rc.root_options(params(manifest_dir=str(tmp_path)))["manifest_dir"] == str(tmp_path)


# --- typing, findings, plan (pure) ----------------------------------------------------------


@pytest.mark.parametrize("serial, kind", [
    (VIRTUAL, "virtual"),
    ("arn:aws:iam::%s:mfa/backup" % MEMBER, "virtual"),
    (PASSKEY, "passkey"),
    (HARDWARE, "hardware"),
    ("arn:aws-us-gov:iam::%s:u2f/root/key-X" % MEMBER, "passkey"),
])
def test_device_type_from_the_serial_alone(serial, kind):
    assert rc.device_type(serial) == kind


def test_findings_of_a_root_with_everything():
    found = rc.findings(facts(serials=(VIRTUAL, HARDWARE)))
    assert [(f["id"], f["serial_number"]) for f in found] == [("root_credentials_present", None), ("root_virtual_mfa", VIRTUAL),
                                                              ("root_access_key", None), ("no_phishing_resistant_mfa", None)]
    assert found[0]["detail"] == {"credentials": ["login_profile", "access_keys", "signing_certificates", "mfa_devices"]}
    assert found[0]["severity"] == "high" and found[3]["detail"] == {"device_types": ["hardware", "virtual"]}
    assert found[2]["detail"] == {"access_key_id": KEY_ID, "active": True, "last_used": None}
    assert found[1]["control"].startswith("Security Hub IAM.6") and found[2]["control"].startswith("Security Hub IAM.4")
    assert rc.counts(found) == counts(root_virtual_mfa=1, root_access_key=1, root_credentials_present=1, no_phishing_resistant_mfa=1)


def counts(**found):
    return dict({finding_id: 0 for finding_id in rc.ROOT_FINDING_IDS}, **found)


@pytest.mark.parametrize("root, expected", [
    (facts(keys=(), certs=(), serials=()), [("root_credentials_present", ["login_profile"]), ("root_without_mfa", None),
                                            ("no_phishing_resistant_mfa", None)]),
    (facts(login=False, keys=(), certs=(), serials=()), []),
    (facts(login=False, keys=(), certs=(), serials=(HARDWARE,)), [("root_credentials_present", ["mfa_devices"])]),  # no password: nothing to phish
    (facts(keys=(), certs=(), serials=(PASSKEY,)), [("root_credentials_present", ["login_profile", "mfa_devices"])]),  # a passkey resists phishing
    (facts(login=False, keys=(), certs=(CERT_ID,), serials=()), [("root_credentials_present", ["signing_certificates"]), ("root_without_mfa", None)]),
])
def test_root_findings_by_what_root_holds(root, expected):
    found = rc.findings(root)
    assert [f["id"] for f in found] == [finding_id for finding_id, dummy in expected]
    for item, (finding_id, held) in zip(found, expected):
        if finding_id == "root_credentials_present":
            assert item["detail"] == {"credentials": held}


def test_plan_removes_sign_in_first_and_deletes_only_virtual_devices():
    plan = root_plan.plan_removal(facts(serials=(PASSKEY, VIRTUAL, HARDWARE)), ALL)
    assert actions(plan) == [
        ("delete_login_profile", "root", {}),
        ("delete_access_key", KEY_ID, {"AccessKeyId": KEY_ID}),
        ("delete_signing_certificate", CERT_ID, {"CertificateId": CERT_ID}),
        ("deactivate_mfa_device", PASSKEY, {"SerialNumber": PASSKEY}),
        ("deactivate_mfa_device", VIRTUAL, {"SerialNumber": VIRTUAL}),
        ("delete_virtual_mfa_device", VIRTUAL, {"SerialNumber": VIRTUAL}),
        ("deactivate_mfa_device", HARDWARE, {"SerialNumber": HARDWARE}),
    ]


def test_plan_of_selected_kinds_and_of_nothing():
    assert actions(root_plan.plan_removal(facts(), ["access_keys"])) == [("delete_access_key", KEY_ID, {"AccessKeyId": KEY_ID})]
    assert root_plan.plan_removal(facts(login=False, keys=(), certs=(), serials=()), ALL) == []


def test_facts_after_empty_only_the_selected_kinds():
    after = root_plan.facts_after(facts(), ["login_profile", "mfa_devices"])
    assert after["login_profile"] is None and after["mfa_devices"] == []
    assert after["access_keys"] == facts()["access_keys"]


# --- whole runs over stubbed clients ----------------------------------------------------------


def _client(service):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


class Stubs:
    """Stubbed sts, iam, organizations (the caller's) and the root session's iam client."""

    def __init__(self):
        self.clients = {name: _client(service) for name, service in
                        (("sts", "sts"), ("iam", "iam"), ("organizations", "organizations"), ("root", "iam"))}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}
        self.sessions = []
        for stubber in self.stubbers.values():
            stubber.activate()

    def make(self):
        def root_iam(session):
            self.sessions.append(session)
            return self.clients["root"]
        return Clients(self.clients["sts"], self.clients["iam"], self.clients["organizations"], root_iam, clock=lambda: NOW)

    def add(self, name, operation, response, expected=None):
        self.stubbers[name].add_response(operation, response, expected)

    def error(self, name, operation, code, message="refused"):
        self.stubbers[name].add_client_error(operation, code, message, 400)

    def caller(self, organization=True, features=(org.ROOT_CREDENTIALS_MANAGEMENT, org.ROOT_SESSIONS)):
        self.add("sts", "get_caller_identity", {"UserId": "AIDAADMIN", "Account": MANAGEMENT, "Arn": CALLER_ARN}, {})
        if organization:
            self.add("organizations", "describe_organization",
                     {"Organization": {"Id": "o-abcdefghij", "MasterAccountId": MANAGEMENT}}, {})
        if features is not None:
            self.add("iam", "list_organizations_features", {"OrganizationId": "o-abcdefghij", "EnabledFeatures": list(features)}, {})
        if features is not None and set(features) == set(org.REQUIRED_FEATURES):
            self.scps()

    def scps(self, attached=None):
        """The SCP reads of a member directly under the root; ``attached``: {target: [(id, name, document)]}, FullAWSAccess by default."""
        attached = attached or {}
        self.add("organizations", "list_parents", {"Parents": [{"Id": ROOT_ID, "Type": "ROOT"}]}, {"ChildId": MEMBER, "MaxResults": 20})
        for target in (MEMBER, ROOT_ID):
            policies = attached.get(target, [("p-FullAWSAccess", "FullAWSAccess", None)])
            self.add("organizations", "list_policies_for_target",
                     {"Policies": [{"Id": i, "Arn": "arn:aws:organizations::%s:policy/%s" % (MANAGEMENT, i), "Name": n, "Type": SCP,
                                    "AwsManaged": i == "p-FullAWSAccess"} for i, n, dummy in policies]},
                     {"TargetId": target, "Filter": SCP, "MaxResults": 20})
            for policy_id, name, document in policies:
                if document is not None:
                    self.add("organizations", "describe_policy", {"Policy": {"PolicySummary": {"Id": policy_id, "Name": name},
                                                                             "Content": json.dumps(document)}}, {"PolicyId": policy_id})

    def assume(self, policy_arn, key="ASIAROOTSESSION00001"):
        self.add("sts", "assume_root", {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s" * 40, "SessionToken": "t" * 40,
                                                        "Expiration": NOW + timedelta(seconds=900)}},
                 {"TargetPrincipal": MEMBER, "TaskPolicyArn": {"arn": policy_arn}, "DurationSeconds": 900})

    def root_reads(self, login=True, keys=(KEY_ID,), certs=(CERT_ID,), serials=(VIRTUAL,)):
        if login:
            self.add("root", "get_login_profile", {"LoginProfile": {"UserName": "root", "CreateDate": NOW}}, {})
        else:
            self.error("root", "get_login_profile", "NoSuchEntity")
        self.add("root", "list_access_keys", {"AccessKeyMetadata": [{"AccessKeyId": k, "Status": "Active", "CreateDate": NOW} for k in keys]},
                 {"MaxItems": 1000})
        for k in keys:
            self.add("root", "get_access_key_last_used", {"AccessKeyLastUsed": {"ServiceName": "s3", "Region": "us-east-1", "LastUsedDate": NOW}},
                     {"AccessKeyId": k})
        self.add("root", "list_signing_certificates",
                 {"Certificates": [{"UserName": "root", "CertificateId": c, "CertificateBody": "-----BEGIN CERTIFICATE-----x",
                                    "Status": "Active", "UploadDate": NOW} for c in certs]}, {"MaxItems": 1000})
        self.add("root", "list_mfa_devices", {"MFADevices": [{"UserName": "root", "SerialNumber": s, "EnableDate": NOW} for s in serials]},
                 {"MaxItems": 1000})

    def done(self):
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs():
    made = Stubs()
    yield made
    made.done()


def test_check_mode_reads_through_the_audit_policy_and_reports_the_plan(stubs):
    stubs.caller()
    stubs.assume(AUDIT_ARN)
    stubs.root_reads(serials=(VIRTUAL, PASSKEY))
    result = rc.remove_root(stubs.make(), params(), check_mode=True)
    assert result["changed"] is True and result["manifest"] is None
    assert [a["action"] for a in result["actions"]] == ["delete_login_profile", "delete_access_key", "delete_signing_certificate",
                                                        "deactivate_mfa_device", "delete_virtual_mfa_device", "deactivate_mfa_device"]
    assert [f["id"] for f in result["findings_before"]] == ["root_credentials_present", "root_virtual_mfa", "root_access_key"]
    assert result["findings_after"] == []
    assert result["organization"] == {"management_account_id": MANAGEMENT, "organization_id": "o-abcdefghij",
                                      "enabled_features": ["RootCredentialsManagement", "RootSessions"]}
    assert result["scp_blockers"] == [] and result["warnings"] == []


def test_apply_uses_the_delete_policy_writes_the_manifest_first_and_applies_the_same_plan(stubs, tmp_path):
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(serials=(VIRTUAL, HARDWARE))
    written = []
    for operation, expected in [
        ("delete_login_profile", {}),
        ("delete_access_key", {"AccessKeyId": KEY_ID}),
        ("delete_signing_certificate", {"CertificateId": CERT_ID}),
        ("deactivate_mfa_device", {"SerialNumber": VIRTUAL}),
        ("delete_virtual_mfa_device", {"SerialNumber": VIRTUAL}),
        ("deactivate_mfa_device", {"SerialNumber": HARDWARE}),
    ]:
        stubs.add("root", operation, {}, expected)
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    # the manifest exists before the first removal reaches IAM
    stubs.clients["root"].meta.events.register(
        "provide-client-params.iam.DeleteLoginProfile", lambda **kwargs: written.append(sorted(os.listdir(tmp_path))))
    result = rc.remove_root(stubs.make(), params(manifest_dir=str(tmp_path)), check_mode=False)
    assert result["changed"] is True and result["findings_after"] == []
    assert len(result["actions"]) == 6
    assert written == [[os.path.basename(result["manifest"])]]
    assert os.path.basename(result["manifest"]).startswith("%s-root-credentials-" % MEMBER)
    assert stat.S_IMODE(os.stat(result["manifest"]).st_mode) == 0o600
    with open(result["manifest"], encoding="utf-8") as handle:
        document = json.load(handle)
    assert document["account_id"] == MEMBER and document["written_by"] == CALLER_ARN
    assert document["actions"] == result["actions"]
    assert document["root_credentials"]["mfa_devices"][1] == {"serial_number": HARDWARE, "type": "hardware", "enable_date": NOW.isoformat()}
    text = json.dumps(document)
    assert "BEGIN CERTIFICATE" not in text and "s" * 40 not in text and "t" * 40 not in text


def test_nothing_to_remove_is_not_changed_and_writes_no_manifest(stubs, tmp_path):
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    stubs.error("root", "delete_virtual_mfa_device", "NoSuchEntity")  # no default-named device left by a stopped run either
    result = rc.remove_root(stubs.make(), params(manifest_dir=str(tmp_path)), check_mode=False)
    assert result["changed"] is False and result["actions"] == [] and result["manifest"] is None and result["warnings"] == []
    assert os.listdir(tmp_path) == []


def test_a_default_named_device_left_deactivated_is_found_without_any_manifest(stubs, tmp_path):
    """Issue 18 #3 for root: a fresh manifest folder (a new AWX container) and root's virtual device deactivated, not deleted."""
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(login=False, keys=(), certs=(), serials=(HARDWARE,))
    stubs.add("root", "deactivate_mfa_device", {}, {"SerialNumber": HARDWARE})
    stubs.add("root", "delete_virtual_mfa_device", {}, {"SerialNumber": VIRTUAL})
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    result = rc.remove_root(stubs.make(), params(manifest_dir=str(tmp_path)), check_mode=False)
    assert result["changed"] is True and result["actions"] == [{"action": "deactivate_mfa_device", "target": HARDWARE},
                                                               {"action": "delete_virtual_mfa_device", "target": VIRTUAL}]
    assert [json.loads(open(os.path.join(tmp_path, name), encoding="utf-8").read())["finished_at"] for name in os.listdir(tmp_path)]


def test_a_run_of_other_types_finishes_the_leftover_device_but_no_manifest_whose_removals_remain(stubs, tmp_path, monkeypatch):
    """Issue 18 #7: credential_types [access_keys] after a run stopped between deactivating root's virtual device and deleting it."""
    names = iter(range(1, 10))
    monkeypatch.setattr(rc.manifest, "manifest_path", lambda folder, account, name: os.path.join(
        folder, "%s-%s-20261126T00000%dZ.json" % (account, name, next(names))))  # two runs within a second
    earlier = tmp_path / ("%s-root-credentials-20261125T100000Z.json" % MEMBER)
    stopped = [{"action": "delete_login_profile", "target": "root"}, {"action": "deactivate_mfa_device", "target": VIRTUAL},
               {"action": "delete_virtual_mfa_device", "target": VIRTUAL}]
    earlier.write_text(json.dumps(dict(root_manifest.manifest_document(MEMBER, facts(keys=(), certs=()), [], CALLER_ARN, "2026-11-25T10:00:00Z"),
                                       actions=stopped)), encoding="utf-8")
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(login=True, keys=(KEY_ID,), certs=(), serials=())  # the password is still there: that run stopped before it
    stubs.add("root", "delete_access_key", {}, {"AccessKeyId": KEY_ID})
    stubs.add("root", "delete_virtual_mfa_device", {}, {"SerialNumber": VIRTUAL})
    stubs.root_reads(login=True, keys=(), certs=(), serials=())
    result = rc.remove_root(stubs.make(), params(credential_types=["access_keys"], manifest_dir=str(tmp_path)), check_mode=False)
    assert result["actions"] == [{"action": "delete_access_key", "target": KEY_ID}, {"action": "delete_virtual_mfa_device", "target": VIRTUAL}]
    left = json.loads(earlier.read_text(encoding="utf-8"))
    assert "finished_at" not in left and left["deleted_leftovers"] == [VIRTUAL]  # its password removal is still to do; its device is done
    assert json.loads(open(result["manifest"], encoding="utf-8").read())["finished_at"]
    # the run that removes the password finishes it
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(login=True, keys=(), certs=(), serials=())
    stubs.add("root", "delete_login_profile", {}, {})
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    done = rc.remove_root(stubs.make(), params(credential_types=["login_profile"], manifest_dir=str(tmp_path)), check_mode=False)
    assert done["actions"] == [{"action": "delete_login_profile", "target": "root"}]  # the device is not planned again
    assert json.loads(earlier.read_text(encoding="utf-8"))["finished_at"]


def test_audit_reads_through_the_audit_policy(stubs):
    stubs.caller()
    stubs.assume(AUDIT_ARN)
    stubs.root_reads(keys=(), certs=(), serials=(HARDWARE,))
    result = ra.audit_root(stubs.make(), {"account_id": MEMBER})
    assert result["changed"] is False and result["counts"] == counts(root_credentials_present=1, no_phishing_resistant_mfa=1)
    assert result["credentials_audited"] is True and result["scp_blockers"] == [] and result["scp_checked"] is True
    assert result["credentials"]["mfa_devices"] == [{"serial_number": HARDWARE, "type": "hardware", "enable_date": NOW.isoformat()}]
    assert result["credentials"]["login_profile"] == {"create_date": NOW.isoformat()}


def test_partition_of_the_caller_names_the_task_policy(stubs):
    stubs.add("sts", "get_caller_identity", {"UserId": "AIDAADMIN", "Account": MANAGEMENT, "Arn": "arn:aws-us-gov:iam::%s:user/admin" % MANAGEMENT}, {})
    stubs.add("organizations", "describe_organization", {"Organization": {"Id": "o-abcdefghij", "MasterAccountId": MANAGEMENT}}, {})
    stubs.add("iam", "list_organizations_features", {"OrganizationId": "o-abcdefghij", "EnabledFeatures": ["RootCredentialsManagement", "RootSessions"]}, {})
    stubs.scps()
    stubs.assume("arn:aws-us-gov:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    assert ra.audit_root(stubs.make(), {"account_id": MEMBER})["findings"] == []


# --- refusals: each before any root session, nothing changed ---------------------------------


def refused(stubs, run_params=None, check_mode=False):
    with pytest.raises(IamGuardError) as raised:
        rc.remove_root(stubs.make(), run_params or params(), check_mode)
    assert "Nothing was changed" in raised.value.message
    assert stubs.sessions == []
    return raised.value.message


def test_management_account_is_refused(stubs):
    stubs.caller(features=None)
    message = refused(stubs, params(account_id=MANAGEMENT))
    assert "management account" in message and "AssumeRoot cannot target it" in message


@pytest.mark.parametrize("enabled, missing", [
    ((), "RootCredentialsManagement and RootSessions are off"),
    (("RootCredentialsManagement",), "RootSessions is off"),
    (("RootSessions",), "RootCredentialsManagement is off"),
])
def test_features_not_enabled_names_them_and_the_calls_that_enable_them(stubs, enabled, missing):
    stubs.caller(features=enabled)
    message = refused(stubs)
    assert missing in message
    for call_name in ("EnableAWSServiceAccess", "iam.amazonaws.com", "EnableOrganizationsRootCredentialsManagement", "EnableOrganizationsRootSessions"):
        assert call_name in message


def test_trusted_access_off_is_the_features_message(stubs):
    stubs.caller(features=None)
    stubs.error("iam", "list_organizations_features", "ServiceAccessNotEnabledException")
    message = refused(stubs)
    assert "RootCredentialsManagement" in message and "RootSessions" in message and "EnableAWSServiceAccess" in message


def test_caller_neither_management_nor_delegated_admin_is_refused(stubs):
    stubs.caller(features=None)
    stubs.error("iam", "list_organizations_features", "AccountNotManagementOrDelegatedAdministratorException")
    assert "management account or the IAM delegated administrator" in refused(stubs)


def test_caller_in_no_organization_is_refused(stubs):
    stubs.add("sts", "get_caller_identity", {"UserId": "AIDAADMIN", "Account": MANAGEMENT, "Arn": CALLER_ARN}, {})
    stubs.error("organizations", "describe_organization", "AWSOrganizationsNotInUseException")
    assert "in no organization" in refused(stubs)


def test_assume_root_denied_says_who_may(stubs):
    stubs.caller()
    stubs.error("sts", "assume_root", "AccessDenied", "not authorized to perform: sts:AssumeRoot")
    assert "not authorized to perform: sts:AssumeRoot" in refused(stubs)


def test_a_virtual_device_left_by_an_unfinished_run_is_deleted_once(stubs, tmp_path):
    # An earlier run wrote its manifest, deactivated root's virtual device and stopped before deleting it:
    # ListMFADevices no longer shows the device, only the unfinished manifest names it.
    earlier = tmp_path / ("%s-root-credentials-20261125T100000Z.json" % MEMBER)
    earlier_facts = facts(login=False, keys=(), certs=(), serials=(VIRTUAL, HARDWARE))
    earlier.write_text(json.dumps(root_manifest.manifest_document(MEMBER, earlier_facts, [], CALLER_ARN, "2026-11-25T10:00:00Z")), encoding="utf-8")
    finished = tmp_path / ("%s-root-credentials-20261124T100000Z.json" % MEMBER)
    finished_facts = facts(serials=("arn:aws:iam::%s:mfa/old" % MEMBER,))
    finished_document = root_manifest.manifest_document(MEMBER, finished_facts, [], CALLER_ARN, "2026-11-24T10:00:00Z")
    finished.write_text(json.dumps(dict(finished_document, finished_at="2026-11-24T10:00:05Z")), encoding="utf-8")
    for check_mode, policy in ((True, AUDIT_ARN), (False, DELETE_ARN)):
        stubs.caller()
        stubs.assume(policy)
        stubs.root_reads(login=False, keys=(), certs=(), serials=(HARDWARE,))
        if not check_mode:
            stubs.add("root", "deactivate_mfa_device", {}, {"SerialNumber": HARDWARE})
            stubs.error("root", "delete_virtual_mfa_device", "NoSuchEntity")  # gone already counts as done, too
            stubs.root_reads(login=False, keys=(), certs=(), serials=())
        result = rc.remove_root(stubs.make(), params(manifest_dir=str(tmp_path)), check_mode=check_mode)
        assert result["actions"] == [{"action": "deactivate_mfa_device", "target": HARDWARE},
                                     {"action": "delete_virtual_mfa_device", "target": VIRTUAL}]
    assert json.loads(earlier.read_text(encoding="utf-8"))["finished_at"]
    assert json.loads(open(result["manifest"], encoding="utf-8").read())["finished_at"]
    assert stat.S_IMODE(os.stat(earlier).st_mode) == 0o600
    # every manifest is finished now: the next run plans nothing (and finds no default-named device left)
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    stubs.error("root", "delete_virtual_mfa_device", "NoSuchEntity")
    again = rc.remove_root(stubs.make(), params(manifest_dir=str(tmp_path)), check_mode=False)
    assert again["changed"] is False and again["actions"] == []


def test_a_failed_run_leaves_its_manifest_unfinished(stubs, tmp_path):
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(login=False, keys=(), certs=(), serials=(VIRTUAL,))
    stubs.add("root", "deactivate_mfa_device", {}, {"SerialNumber": VIRTUAL})
    stubs.error("root", "delete_virtual_mfa_device", "AccessDenied")
    with pytest.raises(IamGuardError):
        rc.remove_root(stubs.make(), params(manifest_dir=str(tmp_path)), check_mode=False)
    assert list(root_manifest.unfinished_manifests(str(tmp_path), MEMBER)) == [str(path) for path in tmp_path.iterdir()]
    assert root_manifest.leftover_serials(root_manifest.unfinished_manifests(str(tmp_path), MEMBER), facts(serials=())) == [VIRTUAL]


def test_bad_account_id_makes_no_call(stubs):
    with pytest.raises(InvalidInput):
        rc.remove_root(stubs.make(), params(account_id="1234"), check_mode=False)


def test_a_removal_refused_by_iam_fails_with_its_answer(stubs):
    stubs.caller()
    stubs.assume(DELETE_ARN)
    stubs.root_reads(keys=(), certs=(), serials=())
    stubs.error("root", "delete_login_profile", "AccessDenied", "not allowed by the task policy")
    with pytest.raises(IamGuardError) as raised:
        rc.remove_root(stubs.make(), params(), check_mode=False)
    assert isinstance(raised.value.exception, ClientError) and "delete_login_profile root failed: AccessDenied" in raised.value.message


# --- the audit when centralized root access is off: a finding, and what could still be read ----------------


@pytest.mark.parametrize("enabled, assumed", [((org.ROOT_CREDENTIALS_MANAGEMENT,), False), ((org.ROOT_SESSIONS,), True), ((), False)])
def test_audit_with_central_root_access_off_reports_it_and_audits_what_it_can(stubs, enabled, assumed):
    stubs.caller(features=enabled)
    stubs.scps()
    if assumed:
        stubs.assume(AUDIT_ARN)
        stubs.root_reads(keys=(), certs=(), serials=(PASSKEY,))
    result = ra.audit_root(stubs.make(), {"account_id": MEMBER})
    first = result["findings"][0]
    disabled = [feature for feature in org.REQUIRED_FEATURES if feature not in enabled]
    assert first["id"] == "centralized_root_access_disabled" and first["severity"] == "critical" and "CIS AWS Foundations v7.0 2.1.1" in first["control"]
    assert first["detail"]["disabled_features"] == disabled and first["detail"]["credentials_audited"] is assumed
    assert "EnableOrganizationsRootSessions" in first["detail"]["how_to_enable"]
    assert result["credentials_audited"] is assumed and result["organization"]["disabled_features"] == disabled
    if assumed:
        assert [f["id"] for f in result["findings"]] == ["centralized_root_access_disabled", "root_credentials_present"]
        assert result["warnings"] == []
    else:
        assert result["credentials"] is None and [f["id"] for f in result["findings"]] == ["centralized_root_access_disabled"]
        assert stubs.sessions == [] and "without RootSessions sts:AssumeRoot is impossible" in result["warnings"][0]
    assert result["counts"]["centralized_root_access_disabled"] == 1


def test_audit_with_trusted_access_off_and_a_refused_root_session(stubs):
    stubs.caller(features=None)
    stubs.error("iam", "list_organizations_features", "ServiceAccessNotEnabledException")
    stubs.scps()
    result = ra.audit_root(stubs.make(), {"account_id": MEMBER})
    assert result["findings"][0]["detail"]["disabled_features"] == ["RootCredentialsManagement", "RootSessions"]
    assert result["findings"][0]["detail"]["trusted_access"] is False and "trusted access for iam.amazonaws.com is off" in result["warnings"][0]
    # RootSessions on, RootCredentialsManagement off, and AWS refuses the session: said, not failed
    stubs.caller(features=(org.ROOT_SESSIONS,))
    stubs.scps()
    stubs.error("sts", "assume_root", "AccessDenied", "not authorized to perform: sts:AssumeRoot")
    refused = ra.audit_root(stubs.make(), {"account_id": MEMBER})
    assert refused["credentials_audited"] is False and "sts:AssumeRoot was refused" in refused["warnings"][0]


# --- service control policies before root cleanup -------------------------------------------------------------

DENY_DEACTIVATE = {"Statement": [{"Sid": "KeepMfa", "Effect": "Deny", "Action": "iam:Deactivate*", "Resource": "*"}]}
DENY_ROOT_IF = {"Statement": [{"Sid": "NoRoot", "Effect": "Deny", "Action": "*", "Resource": "*",
                               "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}}]}


def scp_caller(stubs, attached):
    stubs.caller(features=None)
    stubs.add("iam", "list_organizations_features", {"OrganizationId": "o-abcdefghij", "EnabledFeatures": list(org.REQUIRED_FEATURES)}, {})
    stubs.scps(attached)


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_scp_that_denies_a_needed_action_refuses_before_any_root_session(stubs, check_mode):
    scp_caller(stubs, {MEMBER: [("p-FullAWSAccess", "FullAWSAccess", None), ("p-keepmfa1", "keep-mfa", DENY_DEACTIVATE)]})
    message = refused(stubs, check_mode=check_mode)
    for fragment in ("SCP p-keepmfa1 (keep-mfa) attached to account %s, statement KeepMfa, denies iam:DeactivateMFADevice" % MEMBER,
                     "Root cleanup of account %s would be stopped" % MEMBER):
        assert fragment in message


def test_an_scp_denying_only_what_is_not_removed_does_not_refuse(stubs):
    scp_caller(stubs, {ROOT_ID: [("p-FullAWSAccess", "FullAWSAccess", None), ("p-keepmfa1", "keep-mfa", DENY_DEACTIVATE)]})
    stubs.assume(AUDIT_ARN)
    stubs.root_reads()
    result = rc.remove_root(stubs.make(), params(credential_types=["access_keys"]), check_mode=True)
    assert result["scp_blockers"] == [] and [a["action"] for a in result["actions"]] == ["delete_access_key"]


def test_a_conditional_deny_and_an_allow_list_without_iam(stubs):
    """A conditional Deny warns and lets the run go on; an allow-list SCP level that allows no IAM action refuses."""
    scp_caller(stubs, {ROOT_ID: [("p-FullAWSAccess", "FullAWSAccess", None), ("p-noroot01", "no-root", DENY_ROOT_IF)]})
    stubs.assume(AUDIT_ARN)
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    result = rc.remove_root(stubs.make(), params(), check_mode=True)
    assert [(b["policy_id"], b["target_id"], b["sid"], b["effect"]) for b in result["scp_blockers"]] == [("p-noroot01", ROOT_ID, "NoRoot",
                                                                                                         "may deny (conditional)")]
    assert "may be stopped: SCP p-noroot01 (no-root) attached to root %s, statement NoRoot, may deny sts:AssumeRoot" % ROOT_ID in result["warnings"][0]
    s3_only = {"Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:*"], "Resource": "*"}]}
    stubs.sessions.clear()
    scp_caller(stubs, {MEMBER: [("p-s3only01", "s3-only", s3_only)]})
    message = refused(stubs)
    assert "no SCP attached to account %s allows iam:GetLoginProfile" % MEMBER in message and "sts:AssumeRoot" not in message


def test_a_caller_that_may_not_read_scps_is_warned_and_goes_on(stubs):
    stubs.caller(features=None)
    stubs.add("iam", "list_organizations_features", {"OrganizationId": "o-abcdefghij", "EnabledFeatures": list(org.REQUIRED_FEATURES)}, {})
    stubs.error("organizations", "list_parents", "AccessDeniedException")
    stubs.assume(AUDIT_ARN)
    stubs.root_reads(login=False, keys=(), certs=(), serials=())
    result = rc.remove_root(stubs.make(), params(), check_mode=True)
    assert "were not checked (organizations:ListParents, organizations:ListPoliciesForTarget and organizations:DescribePolicy needed)" in result["warnings"][0]
