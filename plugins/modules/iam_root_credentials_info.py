#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_root_credentials_info
version_added: 0.1.0
short_description: Audit the root user's credentials of a member account through centralized root access
description:
  - Run with the credentials of the organization's management account (or of the IAM delegated administrator for
    centralized root access). The module reads whether the organization has centralized root access enabled
    (IAM ListOrganizationsFeatures - C(RootCredentialsManagement) and C(RootSessions)), reads the service control policies
    that apply to the member account O(account_id), gets a short root session in it with STS AssumeRoot and the task policy
    C(IAMAuditRootUserCredentials), and reads the root user's login profile, access keys (with their last use), signing
    certificates and MFA devices.
  - Centralized root access off is a finding, C(centralized_root_access_disabled) (critical; CIS AWS Foundations v7.0
    2.1.1), naming the features that are off and how to enable them; the audit still does what it can. Without
    C(RootSessions), sts:AssumeRoot is impossible, so root's credentials are not read - RV(credentials) is null,
    RV(credentials_audited) false, and a warning says why. With C(RootSessions) on and C(RootCredentialsManagement) off the
    root session is tried; when AWS refuses it, that is said the same way.
  - RV(scp_blockers) lists the SCP statements that deny (or, with a Condition, may deny) C(sts:AssumeRoot) or an IAM action
    the root session needs, and the SCP levels that allow none of them (an allow-list SCP without them); each is also a
    warning. See M(iamguard.aws.iam_root_credentials) for how they are matched.
  - "Many member accounts in one run: with O(account_ids), the organization is checked once, every target before the first
    AssumeRoot, then the accounts are audited side by side (O(max_workers) at a time), each through a root session of
    its own. An account whose AssumeRoot or reads fail (throttled out after the retries included) is listed in
    RV(unreachable_accounts) with the error code and a one-line reason, and the others go on."
  - The audit task policy allows reads only, so this module cannot change anything. It supports check mode.
  - AssumeRoot is called on the regional STS endpoint of O(region) (never the global C(sts.amazonaws.com), which does not
    answer it), for a session of at most 900 seconds, renewed before it expires.
  - MFA device types come from the serial alone, as the task policies allow no ListVirtualMFADevices - C(:u2f/) is a passkey
    or security key, C(:mfa/) virtual, anything else a hardware token.
  - "Findings (ids and controls as in M(iamguard.aws.iam_mfa_audit)): C(root_without_mfa) (Security Hub IAM.9) - root has a
    password, access key or signing certificate and no MFA device; C(root_virtual_mfa) (IAM.6) - one per virtual device of
    root; C(root_access_key) (IAM.4) - one per access key, active or not; C(root_credentials_present) (high) - the member
    account's root still holds a credential, its detail C(credentials) lists which (C(login_profile), C(access_keys),
    C(signing_certificates), C(mfa_devices)), since with centralized root access a member's root needs none;
    C(no_phishing_resistant_mfa) (high) - root has a password and no passkey or FIDO security key (a virtual or hardware
    TOTP device can be phished); C(centralized_root_access_disabled) (see above). A root user without any credential passes."
  - The audit task policy has no GetMFADevice, so a root passkey's FIDO certification is not read (no C(passkey_not_certified) here).
  - Refused, with nothing read from the member account - an O(account_id) that is not 12 digits; the management account
    itself (AssumeRoot cannot target it, and no SCP applies to it); a caller that is neither the management account nor the
    delegated administrator.
author:
  - iamguard maintainers (@iamguard)
options:
  account_id:
    description:
      - The member account whose root user is audited, 12 digits. Quote it in YAML so leading zeros stay.
      - One of O(account_id) and O(account_ids) is required.
    type: str
  account_ids:
    description:
      - The member accounts whose root users are audited in this run, 12 digits each. The result then lists them in
        RV(accounts) and RV(unreachable_accounts) instead of the keys of one account.
    type: list
    elements: str
  account_names:
    description: Account id to the name the results and reports give it, with O(account_ids) (default the id).
    type: dict
  max_workers:
    description: How many accounts are audited at the same time (1 to 64), with O(account_ids).
    type: int
    default: 16
  fail_on_unreachable:
    description:
      - With O(account_ids), fail the task when an account could not be read - after every account was audited and every
        report written, with the whole result returned.
    type: bool
    default: false
  report_dir:
    description:
      - With O(account_ids), an absolute folder (created 0700 when missing, also in check mode) to write one JSON report
        per account to, C(root-credentials-<account id>-<UTC time YYYYmmddTHHMMSSZ>.json) (0600), with C(account_id),
        C(generated_time), C(organization), C(credentials), C(findings) and C(counts); an unreachable account's has
        C(account_name), C(unreachable) (C(code), C(message)), null C(credentials) and empty C(findings) and C(counts).
    type: path
notes:
  - "Task policy: C(IAMAuditRootUserCredentials). The root session calls C(iam:GetLoginProfile), C(iam:ListAccessKeys),
    C(iam:GetAccessKeyLastUsed), C(iam:ListSigningCertificates) and C(iam:ListMFADevices), which the task policy allows."
  - "Cost beyond the root session's reads - one C(organizations:ListParents) per level above the account, one
    C(organizations:ListPoliciesForTarget) per level (the account, each OU, the root), one C(organizations:DescribePolicy)
    per SCP other than AWS's C(FullAWSAccess): 3 calls for an account right under the root with the default SCP."
requirements:
  - python >= 3.9
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iamguard.aws.permissions.root_session
"""

EXAMPLES = r"""
- name: Audit the root user of a member account
  iamguard.aws.iam_root_credentials_info:
    account_id: "210987654321"
    region: eu-west-1
  register: root_audit

- name: Audit the root users of many member accounts side by side, one JSON report each
  iamguard.aws.iam_root_credentials_info:
    account_ids: ["210987654321", "310987654321"]
    report_dir: /var/lib/iamguard/root-reports
    region: eu-west-1
  register: root_audits

- name: Show what the root user still holds
  ansible.builtin.debug:
    msg: "{{ root_audit.counts }} - MFA: {{ root_audit.credentials.mfa_devices | map(attribute='type') | list }}"
"""

RETURN = r"""
account_id:
  description: The member account audited.
  returned: with O(account_id)
  type: str
  sample: "210987654321"
organization:
  description: The organization's management account and its centralized root access features, enabled and disabled.
  returned: always
  type: dict
  contains:
    management_account_id:
      description: The management account's id.
      type: str
    organization_id:
      description: The organization's id.
      type: str
    enabled_features:
      description: Enabled centralized root access features, from ListOrganizationsFeatures.
      type: list
      elements: str
    disabled_features:
      description: Those of C(RootCredentialsManagement) and C(RootSessions) that are off.
      type: list
      elements: str
    trusted_access:
      description: Whether trusted access for C(iam.amazonaws.com) is on (off, both features are off).
      type: bool
  sample: {"management_account_id": "123456789012", "organization_id": "o-exampleorgid",
           "enabled_features": ["RootCredentialsManagement", "RootSessions"], "disabled_features": [], "trusted_access": true}
credentials:
  description: The root user's credentials, or null when they could not be read (see RV(credentials_audited)). Never a secret - key ids and serials only.
  returned: with O(account_id)
  type: dict
  contains:
    login_profile:
      description: The root password's creation date, or null when root has no password.
      type: dict
    access_keys:
      description: Access keys with C(access_key_id), C(status), C(create_date), C(last_used_date), C(last_used_service).
      type: list
      elements: dict
    signing_certificates:
      description: Signing certificates with C(certificate_id), C(status), C(upload_date).
      type: list
      elements: dict
    mfa_devices:
      description: MFA devices with C(serial_number), C(type) (V(virtual), V(hardware) or V(passkey)) and C(enable_date).
      type: list
      elements: dict
  sample: {"login_profile": {"create_date": "2026-01-05T10:00:00+00:00"}, "access_keys": [], "signing_certificates": [],
           "mfa_devices": [{"serial_number": "arn:aws:iam::210987654321:mfa/root-account-mfa-device", "type": "virtual",
                            "enable_date": "2026-01-05T10:05:00+00:00"}]}
credentials_audited:
  description: Whether root's credentials were read (false when centralized root access keeps AssumeRoot from working).
  returned: with O(account_id), and in each item of RV(accounts)
  type: bool
scp_blockers:
  description:
    - SCP statements that deny or may deny what the root session needs, each with C(policy_id), C(policy_name),
      C(target_id) and C(target_type) (where it is attached - V(ACCOUNT), V(ORGANIZATIONAL_UNIT) or V(ROOT)), C(sid)
      (or C(statement N)), C(actions), C(conditional), C(condition) and C(effect) (V(deny), V(may deny (conditional)), or
      V(implicit deny) with a null policy when no SCP at that level allows the actions).
  returned: with O(account_id), and in each item of RV(accounts)
  type: list
  elements: dict
  sample: [{"policy_id": "p-examplepolicy", "policy_name": "protect-root", "target_id": "ou-ab12-cdef3456", "target_type": "ORGANIZATIONAL_UNIT",
            "sid": "DenyRootSessions", "actions": ["sts:AssumeRoot"], "conditional": false, "condition": null, "effect": "deny"}]
scp_checked:
  description: Whether the SCPs could be read (false, with a warning, when the caller may not read them).
  returned: with O(account_id), and in each item of RV(accounts)
  type: bool
findings:
  description: Findings with C(id), C(control), C(severity), C(title), C(serial_number) and C(detail).
  returned: with O(account_id)
  type: list
  elements: dict
counts:
  description: Findings per id.
  returned: with O(account_id)
  type: dict
  sample: {"root_without_mfa": 0, "root_virtual_mfa": 1, "root_access_key": 0, "root_credentials_present": 1,
           "no_phishing_resistant_mfa": 1, "centralized_root_access_disabled": 0}
summary:
  description: What root holds and the finding ids, in one line.
  returned: with O(account_id), and in each item of RV(accounts)
  type: str
  sample: "password yes, 0 access key(s), 0 signing certificate(s), MFA virtual; findings root_credentials_present, root_virtual_mfa"
generated_time:
  description: The UTC time (YYYYmmddTHHMMSSZ) in the name of every report file of the run.
  returned: with O(account_ids)
  type: str
accounts:
  description:
    - Each account audited, in the order of O(account_ids) - C(account_id), C(name), C(credentials), C(credentials_audited),
      C(scp_blockers), C(scp_checked), C(findings), C(counts), C(summary) and C(report_file) (with O(report_dir)).
  returned: with O(account_ids)
  type: list
  elements: dict
unreachable_accounts:
  description: Each account that could not be read - C(account_id), C(name), C(code), C(message) (one line) and C(report_file).
  returned: with O(account_ids)
  type: list
  elements: dict
  sample: [{"account_id": "310987654321", "name": "310987654321", "code": "AccessDenied", "message": "sts:AssumeRoot ... failed: ..."}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.iamguard.aws.plugins.module_utils.accounts import DEFAULT_MAX_WORKERS, module_connection
from ansible_collections.iamguard.aws.plugins.module_utils.files import prepare_folder
from ansible_collections.iamguard.aws.plugins.module_utils.root.accounts import audit_root_accounts
from ansible_collections.iamguard.aws.plugins.module_utils.root.audit import audit_root
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import module_clients
from ansible_collections.iamguard.aws.plugins.module_utils.runner import run


def main():
    argument_spec = dict(
        account_id=dict(type="str"),
        account_ids=dict(type="list", elements="str"),
        account_names=dict(type="dict"),
        max_workers=dict(type="int", default=DEFAULT_MAX_WORKERS),
        report_dir=dict(type="path"),
        fail_on_unreachable=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[("account_id", "account_ids")],
                              required_one_of=[("account_id", "account_ids")], required_by={"report_dir": "account_ids"})

    def work():
        if module.params["account_ids"] is None:
            return audit_root(module_clients(module), module.params)
        module.params["report_dir"] = prepare_folder(module.params["report_dir"], "report_dir")  # written in check mode too
        return audit_root_accounts(module_connection(module), module.params)

    run(module, work)


if __name__ == "__main__":
    main()
