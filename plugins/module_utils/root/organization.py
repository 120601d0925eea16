# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may manage root credentials of which member account: the organization's checks and their refusals.

Each refusal says why and what to do, and that nothing was changed.
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, error_code, error_message
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import RootSession

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


def organization_features(iam):
    """ListOrganizationsFeatures: {organization_id, enabled_features, disabled_features}; trusted access for IAM off is
    both features off. Refused when the caller cannot ask (not the management account or delegated administrator, no organization)."""
    try:
        answer = call(iam, "list_organizations_features", "ListOrganizationsFeatures")
    except IamGuardError as e:
        code = error_code(e.exception)
        if code == "ServiceAccessNotEnabledException":
            return {"organization_id": None, "enabled_features": [], "disabled_features": list(REQUIRED_FEATURES), "trusted_access": False}
        if code == "AccountNotManagementOrDelegatedAdministratorException":
            raise refusal("The caller's account is neither the management account nor the IAM delegated administrator. %s" % WHO_MAY, e.exception)
        if code in ("OrganizationNotFoundException", "OrganizationNotInAllFeaturesModeException"):
            raise refusal("%s (%s). Centralized root access needs an organization with all features enabled. %s"
                          % (code, error_message(e.exception), HOW_TO_ENABLE), e.exception)
        raise
    enabled = sorted(answer.get("EnabledFeatures", []))
    return {"organization_id": answer.get("OrganizationId"), "enabled_features": enabled,
            "disabled_features": [feature for feature in REQUIRED_FEATURES if feature not in enabled], "trusted_access": True}


def features_off(features):
    """What is off, and how to turn it on, in a sentence."""
    if not features["trusted_access"]:
        return ("Centralized root access is not enabled: trusted access for iam.amazonaws.com is off, so neither %s nor %s can be on. %s"
                % (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS, HOW_TO_ENABLE))
    missing = features["disabled_features"]
    return ("Centralized root access is not enabled for organization %s: %s %s off (enabled: %s). %s"
            % (features["organization_id"], " and ".join(missing), "is" if len(missing) == 1 else "are",
               ", ".join(features["enabled_features"]) or "none", HOW_TO_ENABLE))


def centralized_root_access(iam):
    """{organization_id, enabled_features}; refused unless both features are on."""
    features = organization_features(iam)
    if features["disabled_features"]:
        raise refusal(features_off(features))
    return {"organization_id": features["organization_id"], "enabled_features": features["enabled_features"]}


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
