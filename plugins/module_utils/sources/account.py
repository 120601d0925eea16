# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory from account-wide reads: what many users hold, in a few calls.

- GetAccountAuthorizationDetails (Filter=User): each user's record, groups, inline
  policies with their documents and attached policies - GetUser and three lists per user.
- ListServiceSpecificCredentials with AllUsers: every user's service credentials.
- The credential report: who has a password, access keys, signing certificates, MFA,
  so the per-user lists it shows empty are not read. It holds no SSH keys and no ids,
  so ListSSHPublicKeys is read for every user and ListAccessKeys,
  ListSigningCertificates and ListMFADevices where the report (or the run's fresh
  virtual-device list) shows something.

The report can be up to 4 hours old (IAM builds one at most that often): a user
created after it is read per user, and a credential added since it was built is not in
the plan; DeleteUser then answers DeleteConflict and the batch reads that user again
per user and plans the rest (batch.py). So this source serves state=absent only.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ansible_collections.iamguard.aws.plugins.module_utils import credential_report
from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.devices import user_devices
from ansible_collections.iamguard.aws.plugins.module_utils.paging import read
from ansible_collections.iamguard.aws.plugins.module_utils.sources import per_user


class AccountSnapshot:
    """The account-wide reads of one run, and per-user inventories made from them."""

    def __init__(self, details, service_credentials, report_rows, report_generated):
        self.details = {raw["UserName"].lower(): raw for raw in details}
        self.service_credentials = {}
        for raw in service_credentials:
            self.service_credentials.setdefault(raw["UserName"].lower(), []).append(per_user.service_credential_record(raw))
        self.report_rows = {row["user"].lower(): row for row in report_rows if row["user"] != credential_report.ROOT_USER}
        self.report_generated = report_generated

    def describe(self, now=None):
        """What the result says of this source."""
        now = now or datetime.now(timezone.utc)
        return {"source": "account", "users_read": len(self.details),
                "credential_report_generated_at": self.report_generated.isoformat(),
                "credential_report_age_hours": credential_report.age_hours(self.report_generated, now)}

    def report_row(self, raw):
        """The report's row of this very user, or None (created after the report, or a namesake deleted since)."""
        return credential_report.row_of(self.report_rows, raw)

    def inventory(self, client, user_name, virtual, detailed=False, known_serials=(), parallel=False):
        """per_user.inventory's facts for ``user_name``, read from the snapshot where it covers the user."""
        raw = self.details.get(user_name.lower())
        row = self.report_row(raw) if raw else None
        if row is None:
            return per_user.inventory(client, user_name, virtual, detailed, known_serials, parallel)
        user_name = raw["UserName"]
        warnings = []
        has_key = bool(credential_report.access_keys(row))
        facts = {
            "user": per_user.user_record(raw),
            # The report tells that a password exists; its dates are read (GetLoginProfile) only for a manifest.
            "login_profile": {"create_date": None, "password_reset_required": None} if credential_report.flag(row["password_enabled"]) else None,
            "access_keys": per_user.access_keys(client, user_name) if has_key else [],
            "ssh_public_keys": per_user.ssh_public_keys(client, user_name, warnings),
            "signing_certificates": per_user.signing_certificates(client, user_name) if credential_report.has_signing_certificate(row) else [],
            "service_specific_credentials": self.service_credentials.get(user_name.lower(), []),
            "mfa_devices": ((user_devices(client, user_name, virtual) or []) if _may_have_devices(row, virtual, user_name) else [])
            + per_user.leftover_devices(virtual, user_name, known_serials),
            "groups": list(raw.get("GroupList", [])),
            "inline_policies": {policy["PolicyName"]: policy.get("PolicyDocument") for policy in raw.get("UserPolicyList", [])},
            "attached_policies": [policy["PolicyArn"] for policy in raw.get("AttachedManagedPolicies", [])],
            "warnings": warnings,
        }
        if detailed:
            if facts["login_profile"]:
                facts["login_profile"] = per_user.login_profile(client, user_name)
            per_user.add_details(client, facts, lambda key: reported_last_use(row, key))
        return facts


def read_snapshot(client, wait_seconds):
    """The account-wide reads, side by side (the credential report may take seconds to build)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        details = pool.submit(read, client, "get_account_authorization_details", "UserDetailList",
                              "GetAccountAuthorizationDetails", Filter=["User"])
        credentials = pool.submit(read, client, "list_service_specific_credentials", "ServiceSpecificCredentials",
                                  "ListServiceSpecificCredentials for all users", AllUsers=True)
        report = pool.submit(credential_report.fetch, client, wait_seconds)
        answer = report.result()
        return AccountSnapshot(details.result(), credentials.result(), credential_report.parse(answer["Content"]),
                               answer["GeneratedTime"].astimezone(timezone.utc))


def account_users(client):
    """How many IAM users the account has (GetAccountSummary: one call, whatever the size)."""
    return call(client, "get_account_summary", "GetAccountSummary")["SummaryMap"].get("Users", 0)


# Per target, the account-wide source saves GetUser, GetLoginProfile, the group and two policy
# lists and the service-credential list, and most often a key, certificate or MFA list too.
READS_SAVED_PER_USER = 6
# What it costs: the report (generate, get), the service credentials, and the account's
# users in pages of GetAccountAuthorizationDetails, which IAM may cut well short of
# MaxItems when policies are long: counted at 100 users a page.
ACCOUNT_READS_FIXED = 4
USERS_PER_DETAILS_PAGE = 100


def account_reads_pay(targets, users_in_account):
    """Whether the account-wide reads cost fewer calls than they save for ``targets`` users."""
    return READS_SAVED_PER_USER * targets > ACCOUNT_READS_FIXED + math.ceil(users_in_account / USERS_PER_DETAILS_PAGE)


def reported_last_use(row, key):
    """A key's last use from the report's row: its key number is the one created when the key was."""
    created = credential_report.timestamp(key.get("create_date") or "")
    if created is None:
        return None
    numbers = [reported["number"] for reported in credential_report.access_keys(row) if reported["last_rotated"] == created.replace(microsecond=0)]
    if len(numbers) != 1:
        return None  # two keys made in the same second cannot be told apart: ask IAM
    prefix = "access_key_%d_" % numbers[0]
    return {"date": _reported(row[prefix + "last_used_date"]), "service": _reported(row.get(prefix + "last_used_service")),
            "region": _reported(row.get(prefix + "last_used_region"))}


def _reported(value):
    """A report cell, or None for IAM's placeholders."""
    return None if value in (None, "", "N/A", "no_information", "not_supported") else value


def _may_have_devices(row, virtual, user_name):
    # The report's MFA flag, or a virtual device enabled since (the device list is read during the run).
    return credential_report.flag(row["mfa_active"]) or virtual.assigned_to(user_name)
