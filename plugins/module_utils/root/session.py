# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root sessions in member accounts: sts:AssumeRoot on a regional STS endpoint.

AssumeRoot answers only on regional STS endpoints, never on the global one
(sts.amazonaws.com), and its sessions last at most 900 seconds. The session's
credentials are botocore refreshable credentials: every request checks how long
they have left and calls AssumeRoot again in time, so a long run never signs a
request with an expired session.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

try:
    import boto3
    import botocore.config
    import botocore.loaders
    import botocore.regions
    import botocore.session
    from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
    from botocore.exceptions import UnknownRegionError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    CredentialProvider = object
    UnknownRegionError = Exception

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.session import BOTOCORE_RETRIES, aws_client, iam_client, rate_limited

AUDIT_TASK_POLICY = "IAMAuditRootUserCredentials"
DELETE_TASK_POLICY = "IAMDeleteRootUserCredentials"
MAX_SESSION_SECONDS = 900  # AssumeRoot's limit
# Renew when this little is left: botocore tries at RENEW_SECONDS and insists at
# MUST_RENEW_SECONDS, which leaves a call and its retries (at most about a minute) room.
RENEW_SECONDS = 300
MUST_RENEW_SECONDS = 120
GLOBAL_STS_HOST = "sts.amazonaws.com"


def task_policy_arn(partition, name):
    return "arn:%s:iam::aws:policy/root-task/%s" % (partition, name)


# --- the regional STS endpoint ------------------------------------------------------


def _endpoint_data():
    return botocore.regions.EndpointResolver(botocore.loaders.create_loader().load_data("endpoints"))


def regional_sts_url(region):
    """https://sts.<region>.<partition's DNS suffix>, or IamGuardError for no region or a pseudo-region."""
    if not region or region == "aws-global":
        raise IamGuardError(
            "sts:AssumeRoot is answered only by a regional STS endpoint: set region (or AWS_REGION) to a real region "
            "such as us-east-1, not %s. Nothing was changed." % (region or "none")
        )
    endpoints = _endpoint_data()
    try:
        suffix = endpoints.get_partition_dns_suffix(endpoints.get_partition_for_region(region))
    except UnknownRegionError:
        raise IamGuardError("region %s is not a region botocore knows; sts:AssumeRoot needs a regional STS endpoint. Nothing was changed." % region)
    return "https://sts.%s.%s" % (region, suffix)


def is_global_sts_url(url):
    """True for the global STS endpoint (only the aws partition has one)."""
    return urlsplit(url).hostname == GLOBAL_STS_HOST


def regional_sts_client(make_client, region):
    """The caller's STS client on a regional endpoint.

    ``make_client(endpoint_url=None)`` builds an STS client with the caller's
    credentials. botocore picks the global endpoint when the shared config or
    AWS_STS_REGIONAL_ENDPOINTS says ``legacy`` (for us-east-1 and the other
    legacy regions) or for the pseudo-region aws-global; then the client is built
    again on the region's own endpoint. Any other endpoint (an explicit
    endpoint_url, a VPC endpoint, a test simulator) is kept as it is.
    """
    client = make_client()
    if is_global_sts_url(client.meta.endpoint_url):
        client = make_client(endpoint_url=regional_sts_url(region))
    return client


# --- the session --------------------------------------------------------------------


def _utc_now():
    return datetime.now(timezone.utc)


class RootSession:
    """AssumeRoot credentials for ``account_id`` under one task policy, renewed before they expire.

    ``sts`` is the caller's (regional) STS client; ``clock`` returns an aware
    datetime (a fake one in tests). ``assumed`` counts AssumeRoot calls.
    """

    def __init__(self, sts, account_id, task_policy, partition, clock=_utc_now):
        self.sts = sts
        self.account_id = account_id
        self.task_policy = task_policy
        self.task_policy_arn = task_policy_arn(partition, task_policy)
        self.assumed = 0
        first = self._assume()
        self.credentials = RefreshableCredentials(
            first["access_key"], first["secret_key"], first["token"], self._expires, refresh_using=self._assume,
            method="assume-root", time_fetcher=clock, advisory_timeout=RENEW_SECONDS, mandatory_timeout=MUST_RENEW_SECONDS,
        )

    def _assume(self):
        answer = call(
            self.sts, "assume_root", "sts:AssumeRoot for account %s with task policy %s" % (self.account_id, self.task_policy),
            TargetPrincipal=self.account_id, TaskPolicyArn={"arn": self.task_policy_arn}, DurationSeconds=MAX_SESSION_SECONDS,
        )
        self.assumed += 1
        issued = answer["Credentials"]
        self._expires = issued["Expiration"]
        # botocore's refresh reads the expiry as ISO 8601 text
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": self._expires.isoformat(),
        }

    def iam_client(self, region, endpoint_url=None):
        """An IAM client that signs as the member account's root, with this session's (renewed) credentials."""
        session = botocore.session.Session()
        session.register_component("credential_provider", CredentialResolver([_Fixed(self.credentials)]))
        return rate_limited(boto3.session.Session(botocore_session=session).client(
            "iam", region_name=region, endpoint_url=endpoint_url, config=botocore.config.Config(retries=BOTOCORE_RETRIES),
        ))


class _Fixed(CredentialProvider):
    """A credential provider that hands out one credentials object (the root session's)."""

    METHOD = "assume-root"

    def __init__(self, credentials):
        super().__init__()
        self._credentials = credentials

    def load(self):
        return self._credentials


# --- the caller's clients -----------------------------------------------------------


class Clients:
    """The caller's (management account's) clients, and how a RootSession becomes an IAM client.

    ``sts`` is on a regional endpoint; ``root_iam(session)`` returns the IAM client of a RootSession;
    ``clock`` is what RootSession reads the time from.
    """

    def __init__(self, sts, iam, organizations, root_iam, clock=_utc_now):
        self.sts = sts
        self.iam = iam
        self.organizations = organizations
        self.root_iam = root_iam
        self.clock = clock


def module_clients(module):
    """The Clients of an AnsibleAWSModule: its credentials, region and endpoint_url, STS made regional."""
    region, endpoint_url, dummy = get_aws_connection_info(module)
    return Clients(
        regional_sts_client(lambda endpoint_url=None: aws_client(module, "sts", endpoint_url), region), iam_client(module),
        aws_client(module, "organizations"), lambda session: session.iam_client(region, endpoint_url),
    )
