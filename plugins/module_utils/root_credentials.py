# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root credentials of member accounts: audit and removal through centralized root access.

From the organization's management account (or the IAM delegated administrator):
checks (the target is a 12-digit id, not the management account; the organization
has RootCredentialsManagement and RootSessions), then a root session in the member
account (root_credentials_session), the root's credentials read without UserName
(the root principal's own), a pure plan of Actions, and apply.

Check mode and the audit assume root with the audit task policy, which allows
reads only: they cannot change anything, whatever the code does. Removal assumes
root with the delete task policy, which has no ListVirtualMFADevices: a device's
type comes from its serial alone (``:u2f/`` passkey, ``:mfa/`` virtual, anything
else hardware). A hardware token registered with an ``:mfa/`` serial is then
planned as virtual: its DeleteVirtualMFADevice answers NoSuchEntity, which the
executor takes as done, and the deactivation before it is what counts.
"""

from __future__ import annotations

import os
import re
import time

from ansible_collections.iamguard.aws.plugins.module_utils import audit, manifest, mfa, validation
from ansible_collections.iamguard.aws.plugins.module_utils.client import IamGuardError, call, error_code, error_message, iso_date, read
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.plan import Action, apply, report
from ansible_collections.iamguard.aws.plugins.module_utils.root_credentials_session import AUDIT_TASK_POLICY, DELETE_TASK_POLICY, RootSession
from ansible_collections.iamguard.aws.plugins.module_utils.runner import caller_identity

LOGIN_PROFILE = "login_profile"
ACCESS_KEYS = "access_keys"
SIGNING_CERTIFICATES = "signing_certificates"
MFA_DEVICES = "mfa_devices"
# In the order they are removed: sign-in first, MFA last.
CREDENTIAL_TYPES = (LOGIN_PROFILE, ACCESS_KEYS, SIGNING_CERTIFICATES, MFA_DEVICES)
ROOT_FINDING_IDS = (audit.ROOT_WITHOUT_MFA, audit.ROOT_VIRTUAL_MFA, audit.ROOT_ACCESS_KEY)

ACCOUNT_ID = re.compile(r"[0-9]{12}")
ROOT_SESSIONS = "RootSessions"
ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
REQUIRED_FEATURES = (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS)
HOW_TO_ENABLE = (
    "Enable centralized root access from the management account: Organizations EnableAWSServiceAccess for iam.amazonaws.com "
    "(aws organizations enable-aws-service-access --service-principal iam.amazonaws.com), then IAM "
    "EnableOrganizationsRootCredentialsManagement and EnableOrganizationsRootSessions (aws iam "
    "enable-organizations-root-credentials-management; aws iam enable-organizations-root-sessions)."
)
WHO_MAY = (
    "Only the organization's management account or the IAM delegated administrator for centralized root access may manage "
    "root credentials of member accounts (iam:ListOrganizationsFeatures, sts:AssumeRoot), for member accounts of its organization."
)
MANIFEST_NAME = "root-credentials"  # <account>-root-credentials-<UTC time>.json


# --- options -------------------------------------------------------------------------


def root_options(params):
    """Validated options, or InvalidInput before any AWS call."""
    options = dict(params)
    account_id = options["account_id"]
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        raise validation.InvalidInput("account_id", account_id, "an AWS account id is 12 digits (quote it in YAML so leading zeros stay)")
    types = options.get("credential_types")
    if types is not None:
        if not types:
            raise validation.InvalidInput("credential_types", types, "name at least one of %s" % ", ".join(CREDENTIAL_TYPES))
        options["credential_types"] = [kind for kind in CREDENTIAL_TYPES if kind in types]
    folder = options.get("manifest_dir")
    if folder is not None and (os.path.islink(folder) or not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK)):
        raise validation.InvalidInput("manifest_dir", folder, "must be an existing, writable folder, not a symbolic link")
    return options


# --- the organization: who may, for which account, with which features -----------------


def refusal(message, exception=None):
    return IamGuardError("%s Nothing was changed." % message, exception)


def management_account(organizations):
    """The organization's management account id (DescribeOrganization)."""
    try:
        return call(organizations, "describe_organization", "DescribeOrganization")["Organization"]["MasterAccountId"]
    except IamGuardError as e:
        code = error_code(e.exception)
        if code == "AWSOrganizationsNotInUseException":
            raise refusal("The caller's account is in no organization: root credentials of member accounts are managed from an "
                          "organization's management account. %s" % WHO_MAY, e.exception)
        if code in ("AccessDeniedException", "AccessDenied"):
            raise refusal("The caller may not read the organization (%s). %s" % (error_message(e.exception), WHO_MAY), e.exception)
        raise


def centralized_root_access(iam):
    """ListOrganizationsFeatures: {organization_id, enabled_features}; refused unless both features are on."""
    try:
        answer = call(iam, "list_organizations_features", "ListOrganizationsFeatures")
    except IamGuardError as e:
        code = error_code(e.exception)
        if code == "ServiceAccessNotEnabledException":
            raise refusal("Centralized root access is not enabled: trusted access for iam.amazonaws.com is off, so neither %s nor %s "
                          "can be on. %s" % (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS, HOW_TO_ENABLE), e.exception)
        if code == "AccountNotManagementOrDelegatedAdministratorException":
            raise refusal("The caller's account is neither the management account nor the IAM delegated administrator. %s" % WHO_MAY, e.exception)
        if code in ("OrganizationNotFoundException", "OrganizationNotInAllFeaturesModeException"):
            raise refusal("%s (%s). Centralized root access needs an organization with all features enabled. %s"
                          % (code, error_message(e.exception), HOW_TO_ENABLE), e.exception)
        raise
    enabled = sorted(answer.get("EnabledFeatures", []))
    missing = [feature for feature in REQUIRED_FEATURES if feature not in enabled]
    if missing:
        raise refusal("Centralized root access is not enabled for organization %s: %s %s off (enabled: %s). %s"
                      % (answer.get("OrganizationId"), " and ".join(missing), "is" if len(missing) == 1 else "are",
                         ", ".join(enabled) or "none", HOW_TO_ENABLE))
    return {"organization_id": answer.get("OrganizationId"), "enabled_features": enabled}


def check_target(account_id, management_account_id):
    if account_id == management_account_id:
        raise refusal("account_id %s is the organization's management account: sts:AssumeRoot cannot target it, so its root "
                      "credentials cannot be managed this way. Secure the management account's root user yourself (MFA, no access keys)."
                      % account_id)


def assume_root(clients, account_id, task_policy, partition):
    try:
        return RootSession(clients.sts, account_id, task_policy, partition, clock=clients.clock)
    except IamGuardError as e:
        if error_code(e.exception) in ("AccessDenied", "AccessDeniedException"):
            raise refusal("%s %s" % (e.message, WHO_MAY), e.exception)
        raise


# --- facts (reads through the root session, no UserName: the root principal's own) -------


def read_credentials(client):
    """The root user's credentials, as facts without secrets."""
    profile = call(client, "get_login_profile", "GetLoginProfile of root", missing_ok=True)
    keys = [describe_key(client, key) for key in read(client, "list_access_keys", "AccessKeyMetadata", "ListAccessKeys of root")]
    certificates = read(client, "list_signing_certificates", "Certificates", "ListSigningCertificates of root")
    devices = read(client, "list_mfa_devices", "MFADevices", "ListMFADevices of root")
    return {
        LOGIN_PROFILE: {"create_date": iso_date(profile["LoginProfile"].get("CreateDate"))} if profile else None,
        ACCESS_KEYS: keys,
        SIGNING_CERTIFICATES: [
            {"certificate_id": cert["CertificateId"], "status": cert.get("Status"), "upload_date": iso_date(cert.get("UploadDate"))}
            for cert in certificates
        ],
        MFA_DEVICES: [
            {"serial_number": device["SerialNumber"], "type": device_type(device["SerialNumber"]), "enable_date": iso_date(device.get("EnableDate"))}
            for device in devices
        ],
    }


def describe_key(client, key):
    key_id = key["AccessKeyId"]
    used = call(client, "get_access_key_last_used", "GetAccessKeyLastUsed %s" % key_id, missing_ok=True, AccessKeyId=key_id)
    last = (used or {}).get("AccessKeyLastUsed", {})
    return {"access_key_id": key_id, "status": key.get("Status"), "create_date": iso_date(key.get("CreateDate")),
            "last_used_date": iso_date(last.get("LastUsedDate")), "last_used_service": last.get("ServiceName")}


def device_type(serial):
    # The serial's shape is all the task policies leave (no ListVirtualMFADevices): the rule audit.py names after Prowler.
    return audit.prowler_type(serial)


# --- findings and plan (pure) -------------------------------------------------------------


def has_credentials(facts):
    return bool(facts[LOGIN_PROFILE] or facts[ACCESS_KEYS] or facts[SIGNING_CERTIFICATES])


def findings(facts):
    """IAM.9 / IAM.6 / IAM.4 of audit.py. Root with no credentials at all passes IAM.9 and IAM.6, as Security Hub has it."""
    found = []
    if not facts[MFA_DEVICES] and has_credentials(facts):
        found.append(audit.finding(audit.ROOT_WITHOUT_MFA))
    found.extend(audit.finding(audit.ROOT_VIRTUAL_MFA, serial_number=device["serial_number"])
                 for device in facts[MFA_DEVICES] if device["type"] == mfa.VIRTUAL)
    found.extend(audit.finding(audit.ROOT_ACCESS_KEY, access_key_id=key["access_key_id"], active=key["status"] == "Active",
                               last_used=key["last_used_date"])
                 for key in facts[ACCESS_KEYS])
    return found


def counts(found):
    return {finding_id: sum(1 for item in found if item["id"] == finding_id) for finding_id in ROOT_FINDING_IDS}


def plan_removal(facts, credential_types):
    """Sign-in first (password, keys, certificates), then every device deactivated, each virtual one deleted right after."""
    actions = []
    if LOGIN_PROFILE in credential_types and facts[LOGIN_PROFILE]:
        actions.append(Action("delete_login_profile", "root"))
    if ACCESS_KEYS in credential_types:
        actions.extend(Action("delete_access_key", key["access_key_id"], {"AccessKeyId": key["access_key_id"]}) for key in facts[ACCESS_KEYS])
    if SIGNING_CERTIFICATES in credential_types:
        actions.extend(Action("delete_signing_certificate", cert["certificate_id"], {"CertificateId": cert["certificate_id"]})
                       for cert in facts[SIGNING_CERTIFICATES])
    if MFA_DEVICES in credential_types:
        for device in facts[MFA_DEVICES]:
            serial = device["serial_number"]
            actions.append(Action("deactivate_mfa_device", serial, {"SerialNumber": serial}))
            if device["type"] == mfa.VIRTUAL:
                actions.append(Action("delete_virtual_mfa_device", serial, {"SerialNumber": serial}))
    return actions


def facts_after(facts, credential_types):
    """What the plan leads to: the selected kinds gone."""
    return {kind: (None if kind == LOGIN_PROFILE else []) if kind in credential_types else value for kind, value in facts.items()}


def manifest_document(account_id, facts, actions, caller_arn, written_at):
    return {
        "format": "iamguard.aws/root-credentials-manifest/1",
        "written_at": written_at,
        "written_by": caller_arn,
        "account_id": account_id,
        "root_credentials": facts,
        "actions": report(actions),
    }


# --- entry points ---------------------------------------------------------------------------


def _prepare(clients, account_id):
    """The checks every run makes, in the order that refuses earliest: caller, target, features."""
    caller = caller_identity(clients.sts)
    management = management_account(clients.organizations)
    check_target(account_id, management)
    features = centralized_root_access(clients.iam)
    return caller, {"management_account_id": management, **features}


def audit_root(clients, params):
    """iam_root_credentials_info: the root's credentials and findings, read through the audit task policy."""
    options = root_options(params)
    account_id = options["account_id"]
    caller, organization = _prepare(clients, account_id)
    session = assume_root(clients, account_id, AUDIT_TASK_POLICY, caller["Partition"])
    facts = read_credentials(clients.root_iam(session))
    found = findings(facts)
    return {"changed": False, "account_id": account_id, "organization": organization, "credentials": facts,
            "findings": found, "counts": counts(found)}


def remove_root(clients, params, check_mode):
    """iam_root_credentials state=absent: plan through the audit policy (check mode) or the delete policy, manifest, apply."""
    options = root_options(params)
    account_id = options["account_id"]
    types = options["credential_types"]
    caller, organization = _prepare(clients, account_id)
    session = assume_root(clients, account_id, AUDIT_TASK_POLICY if check_mode else DELETE_TASK_POLICY, caller["Partition"])
    root_iam = clients.root_iam(session)
    before = read_credentials(root_iam)
    actions = plan_removal(before, types)
    result = {"changed": bool(actions), "account_id": account_id, "organization": organization, "credential_types": types,
              "actions": report(actions), "manifest": None, "findings_before": findings(before)}
    if check_mode or not actions:
        result["findings_after"] = findings(facts_after(before, types)) if actions else result["findings_before"]
        return result
    if options.get("manifest_dir"):
        document = manifest_document(account_id, before, actions, caller["Arn"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        path = manifest.manifest_path(options["manifest_dir"], account_id, MANIFEST_NAME)
        result["manifest"] = write_private_file(path, manifest.to_json(document), "manifest_dir")
    apply(root_iam, actions)
    result["findings_after"] = findings(read_credentials(root_iam))
    return result
