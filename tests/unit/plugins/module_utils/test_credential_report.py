# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import credential_report
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

GENERATED = datetime(2026, 11, 25, 8, 0, 0, tzinfo=timezone.utc)
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,"
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,"
    "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
)
ROOT_ROW = ("<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,"
            "true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
ALICE_ROW = ("alice,arn:aws:iam::123456789012:user/alice,2024-01-01T00:00:00+00:00,true,N/A,2024-01-01T00:00:00+00:00,N/A,"
             "false,true,2024-01-01T00:00:00+00:00,2024-02-01T00:00:00+00:00,us-east-1,iam,false,2024-03-01T00:00:00+00:00,N/A,N/A,N/A,"
             "false,N/A,false,N/A\n")
REPORT = {"Content": (HEADER + ROOT_ROW + ALICE_ROW).encode(), "ReportFormat": "text/csv", "GeneratedTime": GENERATED}


class Clock:
    """A fake monotonic clock that sleep() advances."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_fetch_complete_at_once(iam, stub):
    stub.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    stub.add_response("get_credential_report", REPORT, {})
    clock = Clock()
    assert credential_report.fetch(iam, 120, clock, clock.sleep)["GeneratedTime"] == GENERATED
    assert clock.sleeps == []


def test_fetch_waits_while_started_and_in_progress(iam, stub):
    stub.add_response("generate_credential_report", {"State": "STARTED", "Description": "No report exists."}, {})
    # then only GetCredentialReport polls: one call a poll
    stub.add_client_error("get_credential_report", "ReportInProgress", "being generated", 404)
    stub.add_response("get_credential_report", REPORT, {})
    clock = Clock()
    credential_report.fetch(iam, 120, clock, clock.sleep)
    assert clock.sleeps == [credential_report.FIRST_POLL_SECONDS, 2 * credential_report.FIRST_POLL_SECONDS]


@pytest.mark.parametrize("code", ["ReportNotPresent", "ReportExpired"])
def test_fetch_generates_again_when_the_report_is_not_ready(iam, stub, code):
    stub.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    stub.add_client_error("get_credential_report", code, "not ready", 410)
    stub.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    stub.add_response("get_credential_report", REPORT, {})
    clock = Clock()
    assert credential_report.fetch(iam, 120, clock, clock.sleep)["GeneratedTime"] == GENERATED
    assert clock.sleeps == [credential_report.FIRST_POLL_SECONDS]


def test_fetch_asks_again_while_the_report_is_in_progress(iam, stub):
    stub.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    stub.add_client_error("get_credential_report", "ReportInProgress", "being generated", 404)
    stub.add_response("get_credential_report", REPORT, {})
    clock = Clock()
    assert credential_report.fetch(iam, 120, clock, clock.sleep)["GeneratedTime"] == GENERATED
    assert clock.sleeps == [credential_report.FIRST_POLL_SECONDS]


def test_fetch_gives_up_after_the_wait(iam, stub):
    stub.add_response("generate_credential_report", {"State": "INPROGRESS"}, {})
    for dummy in range(4):
        stub.add_client_error("get_credential_report", "ReportInProgress", "being generated", 404)
    clock = Clock()
    with pytest.raises(IamGuardError, match="report_wait_seconds=5"):
        credential_report.fetch(iam, 5, clock, clock.sleep)
    assert clock.sleeps == [0.5, 1.0, 2, 1.5]  # doubled up to POLL_SECONDS, the last cut to the wait left


def test_fetch_zero_wait_fails_at_once_when_not_ready(iam, stub):
    stub.add_response("generate_credential_report", {"State": "STARTED"}, {})
    clock = Clock()
    with pytest.raises(IamGuardError, match="still being generated"):
        credential_report.fetch(iam, 0, clock, clock.sleep)
    assert clock.sleeps == []


def test_fetch_other_errors_are_explained(iam, stub):
    stub.add_client_error("generate_credential_report", "AccessDenied", "not authorized to perform: iam:GenerateCredentialReport", 403)
    with pytest.raises(IamGuardError, match="GenerateCredentialReport failed: AccessDenied"):
        credential_report.fetch(iam, 120, Clock(), Clock().sleep)


def test_parse_rows_and_access_keys():
    rows = credential_report.parse(REPORT["Content"])
    assert [row["user"] for row in rows] == [credential_report.ROOT_USER, "alice"]
    assert credential_report.access_keys(rows[0]) == []
    assert credential_report.access_keys(rows[1]) == [
        {"number": 1, "active": True, "last_rotated": datetime(2024, 1, 1, tzinfo=timezone.utc),
         "last_used": datetime(2024, 2, 1, tzinfo=timezone.utc)},
        # inactive, but it exists: its rotation date is set
        {"number": 2, "active": False, "last_rotated": datetime(2024, 3, 1, tzinfo=timezone.utc), "last_used": None},
    ]


def test_parse_refuses_a_report_without_the_needed_columns():
    with pytest.raises(IamGuardError, match="lacks the column.*mfa_active"):
        credential_report.parse(HEADER.replace("mfa_active", "mfa") + ALICE_ROW)


@pytest.mark.parametrize("value", ["N/A", "no_information", "not_supported", ""])
def test_placeholders_are_no_dates(value):
    assert credential_report.timestamp(value) is None


def test_z_suffix_date():
    assert credential_report.timestamp("2024-01-01T00:00:00Z") == datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_age_and_max_age_boundary():
    now = GENERATED + timedelta(hours=6)
    assert credential_report.age_hours(GENERATED, now) == 6.0
    credential_report.check_age(GENERATED, now, None)
    credential_report.check_age(GENERATED, now, 6)
    with pytest.raises(IamGuardError, match="older than max_report_age_hours=5.*at most every 4 hours"):
        credential_report.check_age(GENERATED, now, 5)


def test_row_of_matches_name_and_creation_second():
    created = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    rows = {"alice": {"user": "alice", "user_creation_time": "2024-01-02T03:04:05+00:00"}}
    assert credential_report.row_of(rows, {"UserName": "Alice", "CreateDate": created}) is rows["alice"]
    # deleted and created again under the same name since the report: another user
    assert credential_report.row_of(rows, {"UserName": "alice", "CreateDate": created + timedelta(seconds=1)}) is None
    assert credential_report.row_of(rows, {"UserName": "alice"}) is None
    assert credential_report.row_of(rows, {"UserName": "bob", "CreateDate": created}) is None
