#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_root_credentials
version_added: 0.1.0
short_description: Remove the root user's credentials of a member account through centralized root access
description:
  - Run with the credentials of the organization's management account (or of the IAM delegated administrator for
    centralized root access). Nobody signs in as root - the module gets a short root session in the member account
    O(account_id) with STS AssumeRoot and removes the root user's login profile (password), access keys, signing
    certificates and MFA devices - every device is deactivated, and each virtual one deleted right after, so no unassigned
    virtual device is left. O(credential_types) selects the kinds.
  - One planner lists the actions. Check mode assumes root with the task policy C(IAMAuditRootUserCredentials), which allows
    reads only, and returns the plan - it cannot change anything. A real run assumes root with
    C(IAMDeleteRootUserCredentials), reads again, writes the manifest, and applies the very same plan.
  - A second run finds nothing to remove and reports C(changed=false) with no actions.
  - The delete task policy has no ListVirtualMFADevices, so a device's type comes from its serial - C(:u2f/) is a passkey or
    security key (deactivated only), C(:mfa/) virtual (deactivated, then deleted), anything else a hardware token
    (deactivated only). A hardware token registered with an C(:mfa/) serial is deactivated too; the deletion that follows
    finds nothing, which counts as done.
  - AssumeRoot is called on the regional STS endpoint of O(region) (never the global C(sts.amazonaws.com), which does not
    answer it), for sessions of at most 900 seconds, renewed before they expire.
  - Refused, with nothing changed - an O(account_id) that is not 12 digits; the management account itself (AssumeRoot
    cannot target it); an organization where C(RootCredentialsManagement) or C(RootSessions) is off (the message names the
    calls that enable them); a caller that is neither the management account nor the delegated administrator; a service
    control policy that would stop the cleanup (below).
  - "SCP pre-check: before the root session, also in check mode, the module reads the SCPs that apply to the account
    (Organizations ListParents up to the root; ListPoliciesForTarget of the account, each OU and the root; DescribePolicy
    of each SCP but AWS's C(FullAWSAccess)) and looks for what would stop the cleanup of O(credential_types) - a statement
    that denies C(sts:AssumeRoot), a read the plan needs (C(iam:GetLoginProfile), C(iam:ListAccessKeys),
    C(iam:GetAccessKeyLastUsed), C(iam:ListSigningCertificates), C(iam:ListMFADevices)) or a removal of a selected kind
    (C(iam:DeleteLoginProfile), C(iam:DeleteAccessKey), C(iam:DeleteSigningCertificate), C(iam:DeactivateMFADevice),
    C(iam:DeleteVirtualMFADevice)), or a level whose SCPs allow none of them. Action and NotAction match with C(*) and
    C(?) wildcards, case-insensitive, on a Resource of C(*) or one matching root (C(arn:<partition>:iam::<account>:root);
    C(mfa/root-account-mfa-device) for DeleteVirtualMFADevice) or outside a NotResource. A sure blocker refuses the account
    with nothing changed, naming the policy id and name, the target it is attached to and the statement's Sid; a Deny with
    a Condition may or may not apply, so it is a warning. RV(scp_blockers) lists them. A caller that may not read the SCPs
    gets a warning and the run goes on."
  - Returns the root findings of M(iamguard.aws.iam_root_credentials_info) before and after (in check mode, the findings the
    plan leads to).
author:
  - iamguard maintainers (@iamguard)
options:
  account_id:
    description:
      - The member account whose root credentials are removed, 12 digits. Quote it in YAML so leading zeros stay.
    type: str
    required: true
  state:
    description:
      - Only V(absent) - the selected root credentials are removed. Root credentials cannot be created this way.
    type: str
    choices: [absent]
    default: absent
  credential_types:
    description:
      - The kinds of root credentials to remove; by default all four.
    type: list
    elements: str
    choices: [login_profile, access_keys, signing_certificates, mfa_devices]
    default: [login_profile, access_keys, signing_certificates, mfa_devices]
  manifest_dir:
    description:
      - An absolute path (C(~) is expanded; a relative path is refused). A missing folder, and each missing parent, is created
        with mode 0700 (not in check mode); an existing folder's mode is never changed. A symbolic link, a file, or a folder
        others may write to (group- or world-writable, C(/tmp) itself) is refused before any AWS call, with a message naming
        this option.
      - Folder for a JSON manifest (C(<account>-root-credentials-<UTC timestamp>.json), mode 0600) written before the
        first removal - the login profile's date, access key ids with status and last use, certificate ids, MFA serials with
        type, and the actions. Never a secret. Not written in check mode or when there is nothing to remove.
      - The manifest is marked finished (C(finished_at)) once root no longer holds anything its actions removed. A run
        stopped between deactivating root's virtual device and deleting it leaves the device unassigned, where ListMFADevices
        no longer shows it; any later run, whatever O(credential_types), reads the unfinished manifests of the account in this
        folder and deletes the virtual devices they name (also listed in check mode), and records them in the manifest
        (C(deleted_leftovers)) so no run plans them again.
      - The root task policies allow neither TagMFADevice nor ListVirtualMFADevices, so this folder is the only record of
        such a leftover named otherwise than C(root-account-mfa-device) - give the same persistent folder to every run (in
        AWX, a persistent volume). A real run with C(mfa_devices) also asks DeleteVirtualMFADevice for root's default-named
        device when ListMFADevices does not show it (one call; C(NoSuchEntity) when there is none), which finds that
        leftover without any manifest; check mode cannot see it.
    type: path
notes:
  - "Task policy: C(IAMAuditRootUserCredentials) in check mode, C(IAMDeleteRootUserCredentials) otherwise. The root session
    calls C(iam:GetLoginProfile), C(iam:ListAccessKeys), C(iam:GetAccessKeyLastUsed), C(iam:ListSigningCertificates),
    C(iam:ListMFADevices), C(iam:DeleteLoginProfile), C(iam:DeleteAccessKey), C(iam:DeleteSigningCertificate),
    C(iam:DeactivateMFADevice) and C(iam:DeleteVirtualMFADevice), which the task policies allow."
  - "The SCP pre-check costs one C(organizations:ListParents) per level above the account, one
    C(organizations:ListPoliciesForTarget) per level and one C(organizations:DescribePolicy) per SCP other than
    C(FullAWSAccess): 3 calls for an account right under the root with the default SCP."
requirements:
  - python >= 3.9
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iamguard.aws.permissions.root_session
"""

EXAMPLES = r"""
- name: What removing every root credential of a member account would do
  iamguard.aws.iam_root_credentials:
    account_id: "210987654321"
    region: eu-west-1
  check_mode: true
  register: plan

- name: Remove them, with a manifest
  iamguard.aws.iam_root_credentials:
    account_id: "210987654321"
    region: eu-west-1
    manifest_dir: /var/lib/iamguard/root

- name: Remove only the root's access keys
  iamguard.aws.iam_root_credentials:
    account_id: "210987654321"
    credential_types: [access_keys]
"""

RETURN = r"""
account_id:
  description: The member account.
  returned: always
  type: str
  sample: "210987654321"
organization:
  description: The management account and the enabled centralized root access features, as in M(iamguard.aws.iam_root_credentials_info).
  returned: always
  type: dict
credential_types:
  description: The kinds removed, in the order they are removed.
  returned: always
  type: list
  elements: str
actions:
  description: The actions performed (or planned, in check mode), in order - the same list in check mode and for real.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: The IAM call in snake_case.
      type: str
    target:
      description: V(root), an access key id, a certificate id or an MFA serial.
      type: str
  sample: [{"action": "delete_login_profile", "target": "root"},
           {"action": "deactivate_mfa_device", "target": "arn:aws:iam::210987654321:mfa/root-account-mfa-device"},
           {"action": "delete_virtual_mfa_device", "target": "arn:aws:iam::210987654321:mfa/root-account-mfa-device"}]
manifest:
  description: Path of the manifest written, or null. Not written when the only action was deleting root's default-named leftover device.
  returned: always
  type: str
scp_blockers:
  description:
    - The SCP statements that may deny (with a Condition) what the cleanup needs, as in
      M(iamguard.aws.iam_root_credentials_info); a sure one refuses the run instead.
  returned: always
  type: list
  elements: dict
findings_before:
  description: Root findings before the run (see M(iamguard.aws.iam_root_credentials_info)).
  returned: always
  type: list
  elements: dict
findings_after:
  description: Root findings read after the removal; in check mode, those the plan leads to.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.iamguard.aws.plugins.module_utils.files import prepare_folder
from ansible_collections.iamguard.aws.plugins.module_utils.plans.root import CREDENTIAL_TYPES
from ansible_collections.iamguard.aws.plugins.module_utils.root.credentials import remove_root
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import module_clients
from ansible_collections.iamguard.aws.plugins.module_utils.runner import run


def main():
    argument_spec = dict(
        account_id=dict(type="str", required=True),
        state=dict(type="str", choices=["absent"], default="absent"),
        credential_types=dict(type="list", elements="str", choices=list(CREDENTIAL_TYPES), default=list(CREDENTIAL_TYPES)),
        manifest_dir=dict(type="path"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    def work():
        module.params["manifest_dir"] = prepare_folder(module.params["manifest_dir"], "manifest_dir", private=True, create=not module.check_mode)
        return remove_root(module_clients(module), module.params, module.check_mode)

    run(module, work)


if __name__ == "__main__":
    main()
