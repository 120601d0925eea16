# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IAM credential report: generated, waited for (bounded), read and parsed.

IAM builds at most one report every 4 hours. GenerateCredentialReport answers at once
with the state of the newest one: STARTED (a new one is being built), INPROGRESS, or
COMPLETE. GetCredentialReport answers ReportNotPresent before the first report,
ReportInProgress while one is built and ReportExpired when the newest is too old:
each of those means "generate and ask again", within the caller's time budget.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timezone

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, error_code

ROOT_USER = "<root_account>"
FIRST_POLL_SECONDS = 0.5  # a small account's report is ready within a second or two
POLL_SECONDS = 2  # the longest pause between polls, doubled up to from FIRST_POLL_SECONDS
NOT_READY_CODES = frozenset(("ReportNotPresent", "ReportInProgress", "ReportExpired"))
# The columns the audit reads; IAM's report has more.
REQUIRED_COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
)
ACCESS_KEY_NUMBERS = (1, 2)
CERTIFICATE_NUMBERS = (1, 2)


def fetch(client, wait_seconds, clock=time.monotonic, sleep=time.sleep):
    """GetCredentialReport's answer for the newest report IAM allows, waiting at most ``wait_seconds`` for it.

    While a report is being built, GetCredentialReport alone polls (ReportInProgress until
    it is ready): asking GenerateCredentialReport again as well would double every poll.
    """
    deadline = clock() + wait_seconds
    pause = FIRST_POLL_SECONDS
    generate = True
    while True:
        if not generate or call(client, "generate_credential_report", "GenerateCredentialReport")["State"] == "COMPLETE":
            try:
                return call(client, "get_credential_report", "GetCredentialReport")
            except IamGuardError as e:
                if error_code(e.exception) not in NOT_READY_CODES:
                    raise
                # No report, or an expired one: only GenerateCredentialReport starts a new one.
                generate = error_code(e.exception) != "ReportInProgress"
        else:
            generate = False
        remaining = deadline - clock()
        if remaining <= 0:
            raise IamGuardError(
                "The credential report was still being generated after report_wait_seconds=%s; IAM usually needs seconds to "
                "minutes for a large account. Run the task again later or raise report_wait_seconds. Nothing was changed." % wait_seconds
            )
        sleep(min(pause, remaining))
        pause = min(2 * pause, POLL_SECONDS)


def parse(content):
    """The report's rows as dicts keyed by column name (the root user's row included, named ROOT_USER)."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        raise IamGuardError("The credential report lacks the column(s) %s; cannot audit it." % ", ".join(missing))
    return list(reader)


def timestamp(value):
    """A report date as an aware datetime; None for IAM's placeholders (N/A, no_information, not_supported)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def to_second(value):
    """A boto3 datetime in UTC, cut to the second as the report writes dates; None for anything else."""
    if not hasattr(value, "astimezone"):
        return None
    return value.astimezone(timezone.utc).replace(microsecond=0)


def row_of(rows_by_name, user):
    """The report row of this very IAM user (a ListUsers or GetAccountAuthorizationDetails record), or None.

    ``rows_by_name``: the report's rows keyed by lower-case name. A name is not enough: a user
    deleted and created again under the same name since the report inherits nothing of the old
    row, so the row's user_creation_time must be the user's CreateDate too.
    """
    row = rows_by_name.get(user["UserName"].lower())
    if row is None or timestamp(row["user_creation_time"]) != to_second(user.get("CreateDate")):
        return None
    return row


def flag(value):
    return value == "true"


def access_keys(row):
    """The row's access keys that exist (active or not), with their dates as datetimes."""
    keys = []
    for number in ACCESS_KEY_NUMBERS:
        prefix = "access_key_%d_" % number
        active = flag(row[prefix + "active"])
        last_rotated = timestamp(row[prefix + "last_rotated"])
        # An inactive key still exists: its rotation date is set; a missing key has N/A.
        if active or last_rotated:
            keys.append({"number": number, "active": active, "last_rotated": last_rotated, "last_used": timestamp(row[prefix + "last_used_date"])})
    return keys


def has_signing_certificate(row):
    """Whether the row shows a signing certificate; like a key, an inactive one still has its date."""
    return any(flag(row.get("cert_%d_active" % n)) or timestamp(row.get("cert_%d_last_rotated" % n) or "") for n in CERTIFICATE_NUMBERS)


def age_hours(generated_time, now):
    return round((now - generated_time).total_seconds() / 3600.0, 2)


def check_age(generated_time, now, max_age_hours):
    """Raise IamGuardError when the report is older than ``max_age_hours`` (None: any age is fine)."""
    if max_age_hours is None or age_hours(generated_time, now) <= max_age_hours:
        return
    raise IamGuardError(
        "The newest credential report was generated at %s, %.1f hours ago, which is older than max_report_age_hours=%s. "
        "IAM builds a new report at most every 4 hours: run the task again later, or raise max_report_age_hours. "
        "Nothing was changed." % (generated_time.isoformat(), age_hours(generated_time, now), max_age_hours)
    )
