# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notes on IAM permissions that several modules share.

Use as ``iamguard.aws.permissions.mfa_session`` (modules that deactivate, delete or
enable MFA devices) or ``iamguard.aws.permissions.root_session`` (modules that act
on a member account's root user through sts:AssumeRoot).
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
"""

    MFA_SESSION = r"""
options: {}
notes:
  - "MFA-gated calls: accounts often allow C(iam:DeactivateMFADevice), C(iam:DeleteVirtualMFADevice) and
    C(iam:EnableMFADevice) only to sessions signed in with MFA (C(aws:MultiFactorAuthPresent)). When IAM answers
    C(AccessDenied) to one of them and the task signs with long-term access keys (no session token; such keys never
    carry MFA), the error adds the fix: run the task with the O(access_key), O(secret_key) and O(session_token) of an
    STS session obtained with MFA (for example from M(amazon.aws.sts_session_token)). IAM's answer never says that MFA
    is the reason, and a session token may or may not carry MFA, so with a session token the error is IAM's alone."
"""

    ROOT_SESSION = r"""
options: {}
requirements:
  - boto3 >= 1.35.61
  - botocore >= 1.35.61 (sts AssumeRoot and iam ListOrganizationsFeatures; with an older one the task fails clearly)
notes:
  - "IAM permissions of the caller (the organization's management account or a delegated administrator for IAM):
    C(sts:GetCallerIdentity), C(organizations:DescribeOrganization), C(iam:ListOrganizationsFeatures),
    C(organizations:ListParents), C(organizations:ListPoliciesForTarget) and C(organizations:DescribePolicy) (the
    service control policies that apply to the member account; without them the SCP check is skipped with a warning)
    and C(sts:AssumeRoot) on the member account with the task policy the notes name. The root session can do only what
    that task policy allows, and what the account's SCPs do not deny."
  - The management account's own root user cannot be reached this way.
"""
