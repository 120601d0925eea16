# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root credentials of member accounts: audit and removal through centralized root access.

From the organization's management account (or the IAM delegated administrator):
checks (the target is a 12-digit id; root.organization: not the management
account, the organization has RootCredentialsManagement and RootSessions), then a root
session in the member account (root.session), the root's credentials read
without UserName (the root principal's own), a pure plan of Actions, and apply.

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

from ansible_collections.iamguard.aws.plugins.module_utils import manifest, phishing, validation
from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, is_conflict, is_missing
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.findings import (
    CENTRALIZED_ROOT_ACCESS_DISABLED, NO_PHISHING_RESISTANT_MFA, ROOT_ACCESS_KEY, ROOT_CREDENTIALS_PRESENT, ROOT_VIRTUAL_MFA, ROOT_WITHOUT_MFA,
    finding, type_by_serial,
)
from ansible_collections.iamguard.aws.plugins.module_utils.paging import iso_date, read
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import report
from ansible_collections.iamguard.aws.plugins.module_utils.plans.root import (
    ACCESS_KEYS, CREDENTIAL_TYPES, LOGIN_PROFILE, MFA_DEVICES, SIGNING_CERTIFICATES, facts_after, plan_removal, remaining,
)
from ansible_collections.iamguard.aws.plugins.module_utils.root.manifest import (
    MANIFEST_NAME, finished_manifests, leftover_serials, manifest_document, mark_progress, unfinished_manifests, utc_time,
)
from ansible_collections.iamguard.aws.plugins.module_utils.root import scp
from ansible_collections.iamguard.aws.plugins.module_utils.root.organization import assume_root, centralized_root_access, check_target, management_account
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import AUDIT_TASK_POLICY, DELETE_TASK_POLICY
from ansible_collections.iamguard.aws.plugins.module_utils.runner import caller_identity
from ansible_collections.iamguard.aws.plugins.module_utils.tags import ROOT_DEVICE_NAME, VIRTUAL

ROOT_FINDING_IDS = (ROOT_WITHOUT_MFA, ROOT_VIRTUAL_MFA, ROOT_ACCESS_KEY, ROOT_CREDENTIALS_PRESENT, NO_PHISHING_RESISTANT_MFA,
                    CENTRALIZED_ROOT_ACCESS_DISABLED)


# --- options -------------------------------------------------------------------------


def root_options(params):
    """Validated options, or InvalidInput before any AWS call."""
    options = dict(params)
    account_id = options["account_id"]
    if not isinstance(account_id, str) or not validation.ACCOUNT_ID.fullmatch(account_id):
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
    # The serial's shape is all the task policies leave (no ListVirtualMFADevices).
    return type_by_serial(serial)


# --- findings (pure) -------------------------------------------------------------


def has_credentials(facts):
    return bool(facts[LOGIN_PROFILE] or facts[ACCESS_KEYS] or facts[SIGNING_CERTIFICATES])


def findings(facts):
    """IAM.9 / IAM.6 / IAM.4 of findings.py, root_credentials_present (which kinds root holds), and no_phishing_resistant_mfa
    for a root with a password and no passkey. Root with no credentials at all passes IAM.9 and IAM.6, as Security Hub has it."""
    held = [kind for kind in CREDENTIAL_TYPES if facts[kind]]
    found = [finding(ROOT_CREDENTIALS_PRESENT, credentials=held)] if held else []
    if not facts[MFA_DEVICES] and has_credentials(facts):
        found.append(finding(ROOT_WITHOUT_MFA))
    found.extend(finding(ROOT_VIRTUAL_MFA, serial_number=device["serial_number"])
                 for device in facts[MFA_DEVICES] if device["type"] == VIRTUAL)
    found.extend(finding(ROOT_ACCESS_KEY, access_key_id=key["access_key_id"], active=key["status"] == "Active",
                         last_used=key["last_used_date"])
                 for key in facts[ACCESS_KEYS])
    if facts[LOGIN_PROFILE]:
        found.extend(phishing.findings(None, facts[MFA_DEVICES]))
    return found


def counts(found):
    return {finding_id: sum(1 for item in found if item["id"] == finding_id) for finding_id in ROOT_FINDING_IDS}


def default_device_serial(partition, account_id):
    """Root's virtual device as the console names it by default (arn:...:mfa/root-account-mfa-device)."""
    return "arn:%s:iam::%s:mfa/%s" % (partition, account_id, ROOT_DEVICE_NAME)


def finish_default_device(root_iam, serial, warnings):
    """DeleteVirtualMFADevice of root's default-named device, which a stopped run may have left deactivated; True if it was deleted.

    Neither task policy can list or tag virtual devices, so without a manifest naming it this is the only way to find
    such a leftover: IAM answers NoSuchEntity (no such device) or DeleteConflict (enabled: then ListMFADevices shows it).
    """
    try:
        call(root_iam, "delete_virtual_mfa_device", "DeleteVirtualMFADevice %s (a leftover of a stopped run?)" % serial, SerialNumber=serial)
    except IamGuardError as e:
        if not (is_conflict(e.exception) or is_missing(e.exception)):
            warnings.append("Could not check for a deactivated virtual MFA device of root left by a stopped run: %s" % e.message)
        return False
    return True


# --- entry points ---------------------------------------------------------------------------


def prepare(clients, account_ids, features_of=centralized_root_access):
    """The checks every run makes, in the order that refuses earliest: caller, every target, features (``features_of(iam)``)."""
    caller = caller_identity(clients.sts)
    management = management_account(clients.organizations)
    for account_id in account_ids:
        check_target(account_id, management)
    features = features_of(clients.iam)
    return caller, {"management_account_id": management, **features}


def remove_root(clients, params, check_mode):
    """iam_root_credentials state=absent: plan through the audit policy (check mode) or the delete policy, manifest, apply."""
    options = root_options(params)
    account_id = options["account_id"]
    types = options["credential_types"]
    caller, organization = prepare(clients, [account_id])
    blockers, warnings = scp.check_cleanup(clients.organizations, account_id, types, caller["Partition"])
    session = assume_root(clients, account_id, AUDIT_TASK_POLICY if check_mode else DELETE_TASK_POLICY, caller["Partition"])
    root_iam = clients.root_iam(session)
    before = read_credentials(root_iam)
    unfinished = unfinished_manifests(options.get("manifest_dir"), account_id)
    leftovers = leftover_serials(unfinished, before)
    actions = plan_removal(before, types, leftovers)
    result = {"changed": bool(actions), "account_id": account_id, "organization": organization, "credential_types": types,
              "actions": report(actions), "manifest": None, "findings_before": findings(before), "warnings": warnings,
              "scp_blockers": blockers}
    probe = default_device_serial(caller["Partition"], account_id)
    probing = MFA_DEVICES in types and probe not in remaining(before) and probe not in leftovers
    if check_mode or not (actions or probing):
        result["findings_after"] = findings(facts_after(before, types)) if actions else result["findings_before"]
        return result
    if options.get("manifest_dir") and actions:
        document = manifest_document(account_id, before, actions, caller["Arn"], utc_time())
        path = manifest.manifest_path(options["manifest_dir"], account_id, MANIFEST_NAME)
        result["manifest"] = write_private_file(path, manifest.to_json(document), "manifest_dir")
        unfinished[result["manifest"]] = document
    apply(root_iam, actions)
    if probing and finish_default_device(root_iam, probe, result["warnings"]):
        result["actions"].append({"action": "delete_virtual_mfa_device", "target": probe})
        result["changed"] = True
    elif not actions:
        result["findings_after"] = result["findings_before"]
        return result
    after = read_credentials(root_iam)
    mark_progress(unfinished, finished_manifests(unfinished, after), leftovers)
    result["findings_after"] = findings(after)
    return result
