"""AWS Organizations as AWS answers callers outside the management account, and IAM's centralized root access features.

moto 5.2 keeps one organization in the management account's backend and answers every
account from its own backend: a member account lists no accounts (AWS: AccessDeniedException,
or the organization's accounts for a delegated administrator) and an account in no
organization lists none either (AWS: AWSOrganizationsNotInUseException). moto also refuses
iam.amazonaws.com for trusted access and delegated administration, and has no IAM
ListOrganizationsFeatures / Enable... / Disable... calls. Each difference is listed in the
README's "The simulator" section.
"""

from moto.organizations.models import FakeDelegatedAdministrator, FakeServiceAccess, organizations_backends

from .protocol import AwsError, result_reply

IAM_PRINCIPAL = "iam.amazonaws.com"
ROOT_FEATURES = ("RootCredentialsManagement", "RootSessions")
# Calls any account of an organization may make (member accounts included), or an account in none.
ANY_ACCOUNT_ACTIONS = frozenset(("CreateOrganization", "DescribeOrganization", "LeaveOrganization", "AcceptHandshake",
                                 "DeclineHandshake", "ListHandshakesForAccount"))
# Read-only calls a delegated administrator (for any service) may make besides the management account.
DELEGATED_READS = frozenset(("DescribeAccount", "DescribeOrganizationalUnit", "DescribePolicy", "ListAccounts", "ListAccountsForParent",
                             "ListAWSServiceAccessForOrganization", "ListChildren", "ListDelegatedAdministrators",
                             "ListDelegatedServicesForAccount", "ListOrganizationalUnitsForParent", "ListParents", "ListPolicies",
                             "ListPoliciesForTarget", "ListRoots", "ListTagsForResource", "ListTargetsForPolicy"))
NOT_IN_USE = AwsError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
# The wording AWS Organizations answers a member account's read with.
ORGANIZATIONS_DENIED = AwsError("AccessDeniedException", "You don't have permissions to access this resource.")
# IAM's errors below have no fixed wording that we know of; the messages are ours, the codes are AWS's (botocore's model).
IAM_FEATURE_ERRORS = {
    "no_organization": ("OrganizationNotFoundException", "The account making the request belongs to no organization."),
    "not_all_features": ("OrganizationNotInAllFeaturesModeException", "The organization does not have all features enabled."),
    "no_trusted_access": ("ServiceAccessNotEnabledException",
                          "Trusted access for IAM (iam.amazonaws.com) is not enabled in AWS Organizations."),
    "not_admin": ("AccountNotManagementOrDelegatedAdministratorException",
                  "The account making the request is neither the management account nor the IAM delegated administrator."),
    "not_management": ("CallerIsNotManagementAccountException", "Only the organization's management account can make this request."),
}


def _organizations(account):
    return organizations_backends[account]["aws"]


def management_account_of(account):
    """The management account of `account`'s organization (itself when it is the management account), or None."""
    if _organizations(account).org is not None:
        return account
    entry = organizations_backends.master_accounts.get(account)
    if entry is None or _organizations(entry[0]).org is None:
        return None
    return entry[0]


def delegated_services(management, account):
    """The service principals `account` is a registered delegated administrator for."""
    return {service for admin in _organizations(management).admins if admin.account.id == account for service in admin.services}


def is_member(management, account):
    """Whether `account` is a member (not the management account) of `management`'s organization."""
    return account != management and any(a.id == account for a in _organizations(management).accounts)


def iam_feature_error(kind):
    return AwsError(*IAM_FEATURE_ERRORS[kind], 400)


def _accept_iam_principal():
    """AWS lets iam.amazonaws.com have trusted access and a delegated administrator (for centralized root access); moto does not know it."""
    for allowed in (FakeServiceAccess.TRUSTED_SERVICES, FakeDelegatedAdministrator.SUPPORTED_SERVICES):
        if IAM_PRINCIPAL not in allowed:
            allowed.append(IAM_PRINCIPAL)


class Organizations:
    """Who may call Organizations, and the IAM root-access features each organization has enabled."""

    def __init__(self):
        _accept_iam_principal()
        self._features = {}  # organization id -> set of enabled ROOT_FEATURES

    def reset(self):
        """Forget the features; moto's reset keeps its member -> management account map, so clear it too."""
        self._features = {}
        organizations_backends.master_accounts.clear()

    def handlers(self):
        handlers = {"organizations:*": self._organizations_call, "iam:ListOrganizationsFeatures": self._list_features}
        for feature in ROOT_FEATURES:
            handlers[f"iam:EnableOrganizations{feature}"] = self._feature_switch(feature, True)
            handlers[f"iam:DisableOrganizations{feature}"] = self._feature_switch(feature, False)
        return handlers

    def root_features(self, management):
        """The root-access features enabled in the organization `management` manages."""
        return self._features.get(_organizations(management).org.id, set())

    def may_manage_root(self, account):
        """(management account, allowed): `account` is the management account or IAM's delegated administrator."""
        management = management_account_of(account)
        allowed = management is not None and (account == management or IAM_PRINCIPAL in delegated_services(management, account))
        return management, allowed

    def _organizations_call(self, req, forward):
        """The management account gets moto's answers; a delegated administrator reads the management account's organization."""
        management = management_account_of(req.account)
        if req.action in ANY_ACCOUNT_ACTIONS or management == req.account:
            return forward()
        if management is None:
            raise NOT_IN_USE
        if req.action in DELEGATED_READS and delegated_services(management, req.account):
            req.environ["HTTP_X_MOTO_ACCOUNT_ID"] = management
            return forward()
        raise ORGANIZATIONS_DENIED

    def _checked_organization(self, req, enabling):
        """The caller's organization when it may use the IAM root-access feature calls; else AWS's error."""
        management = management_account_of(req.account)
        if management is None:
            raise iam_feature_error("no_organization")
        backend = _organizations(management)
        if backend.org.feature_set != "ALL":
            raise iam_feature_error("not_all_features")
        if not any(service["ServicePrincipal"] == IAM_PRINCIPAL for service in backend.services):
            raise iam_feature_error("no_trusted_access")
        if req.account != management:
            if IAM_PRINCIPAL not in delegated_services(management, req.account):
                raise iam_feature_error("not_admin")
            if enabling:
                raise iam_feature_error("not_management")
        return backend.org

    def _features_reply(self, req, organization):
        enabled = [feature for feature in ROOT_FEATURES if feature in self._features.get(organization.id, set())]
        return result_reply("iam", req.action, {"OrganizationId": organization.id, "EnabledFeatures": enabled})

    def _list_features(self, req, _forward):
        return self._features_reply(req, self._checked_organization(req, enabling=False))

    def _feature_switch(self, feature, enable):
        def switch(req, _forward):
            organization = self._checked_organization(req, enabling=enable)
            enabled = self._features.setdefault(organization.id, set())
            if enable:
                enabled.add(feature)
            else:
                enabled.discard(feature)
            return self._features_reply(req, organization)
        return switch
