# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/accounts.py: the account list, fan_out's unreachable accounts, the shared session; and one fan-out
MFA audit against an in-process simulator with an account whose role is missing and one throttled out."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from ansible_collections.iamguard.aws.plugins.module_utils import accounts, calls, validation
from ansible_collections.iamguard.aws.plugins.module_utils.audit_accounts import audit_accounts
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

A, B, C = "111111111111", "222222222222", "333333333333"


def entry(account, **more):
    return dict({"account_id": account, "role_arn": "arn:aws:iam::%s:role/audit" % account}, **more)


def test_account_list_fills_defaults_and_refuses_bad_entries():
    listed = accounts.account_list([entry(A, name="dev"), {"account_id": B}, {}])
    assert listed == [
        {"account_id": A, "role_arn": "arn:aws:iam::%s:role/audit" % A, "name": "dev", "role_session_name": "iamguard-aws"},
        {"account_id": B, "role_arn": None, "name": B, "role_session_name": "iamguard-aws"},
        {"account_id": None, "role_arn": None, "name": "caller", "role_session_name": "iamguard-aws"},
    ]
    for bad, rule in [([{"account_id": "12345"}], "12 digits"), ([entry(A), entry(A)], "listed twice"),
                      ([{"role_arn": "arn:aws:iam::%s:role/x" % A}], "12 digits"), ([dict(entry(A), role_arn="x")], "IAM role ARN")]:
        with pytest.raises(validation.InvalidInput, match=rule):
            accounts.account_list(bad)
    with pytest.raises(validation.InvalidInput, match="role_session_name"):
        accounts.account_list([entry(A)], "no spaces allowed")


def client_error(code, message="refused"):
    return ClientError({"Error": {"Code": code, "Message": message}}, "AssumeRole")


def test_fan_out_records_each_unreachable_account_and_goes_on():
    seen, lock = [], threading.Lock()

    def work(account):
        with lock:
            seen.append(account["account_id"])
        if account["account_id"] == B:
            raise IamGuardError("sts:AssumeRole failed:\n AccessDenied: not authorized " + "x" * 900, client_error("AccessDenied"))
        if account["account_id"] == C:
            raise client_error("Throttling", "Rate exceeded")
        return {"account_id": account["account_id"]}

    done, unreachable = accounts.fan_out(accounts.account_list([entry(A), entry(B), entry(C)]), work, 2)
    assert sorted(seen) == [A, B, C] and done == [{"account_id": A}]
    assert [(item["account_id"], item["code"]) for item in unreachable] == [(B, "AccessDenied"), (C, "Throttling")]
    assert "\n" not in unreachable[0]["message"] and len(unreachable[0]["message"]) == accounts.REASON_LENGTH
    assert unreachable[0]["message"].startswith("sts:AssumeRole failed: AccessDenied: not authorized")


def test_fan_out_fails_on_the_callers_own_account_and_on_bugs():
    def denied(account):
        raise IamGuardError("GetCredentialReport failed", client_error("AccessDenied"))

    with pytest.raises(IamGuardError):
        accounts.fan_out(accounts.account_list([{}]), denied, 4)
    with pytest.raises(KeyError):
        accounts.fan_out(accounts.account_list([entry(A)]), lambda account: {}["bug"], 4)
    with pytest.raises(validation.InvalidInput, match="max_workers"):
        accounts.fan_out(accounts.account_list([entry(A)]), denied, 0)


def test_fast_timestamp_parses_what_iam_sends_without_dateutil():
    assert accounts.fast_timestamp("2026-11-25T08:00:00Z") == datetime(2026, 11, 25, 8, tzinfo=timezone.utc)
    assert accounts.fast_timestamp("2026-11-25T08:00:00") == datetime(2026, 11, 25, 8, tzinfo=timezone.utc)
    assert accounts.fast_timestamp("1764057600").year == 2025  # epoch seconds: botocore's own parser


class FakeSession:
    """A boto3 session whose client() records the calls, from many threads at once."""

    def __init__(self):
        self.made, self.inside, self.overlapped = [], 0, False

    def client(self, service, **kwargs):
        self.inside += 1
        self.overlapped |= self.inside > 1
        self.made.append((service, kwargs.get("aws_access_key_id")))
        self.inside -= 1
        return FakeClient()


class FakeClient:
    class meta:  # pylint: disable=invalid-name
        class events:  # pylint: disable=invalid-name
            @staticmethod
            def register_first(*args):
                pass

            @staticmethod
            def register(*args):
                pass


def test_connection_makes_every_client_from_one_session_one_at_a_time():
    connection = accounts.Connection("us-east-1", credentials={"aws_access_key_id": "AKIABASE"})
    connection.session = FakeSession()
    threads = [threading.Thread(target=connection.client, args=("iam", {"aws_access_key_id": "ASIA%d" % n})) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert connection.caller_client("sts") is connection.caller_client("sts")
    assert len(connection.session.made) == 9 and not connection.session.overlapped
    assert ("sts", "AKIABASE") in connection.session.made


# --- against the simulator, in this process ------------------------------------------------------


@pytest.fixture(scope="module")
def simulator():
    from tests.simulator import Simulator  # pylint: disable=import-outside-toplevel

    with Simulator() as sim:
        yield sim


def test_fan_out_audit_reports_a_missing_role_and_a_throttled_out_account(simulator, monkeypatch, tmp_path):
    from tests.simulator.large_org import seed_large_organization  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(calls, "RETRY_DELAY", 0)
    simulator.reset()
    org = seed_large_organization(simulator, 4, users=2, planted_every=2)
    ids = list(org["accounts"].values())
    simulator.configure(roles_must_exist=True)
    simulator.race(fail={"action": "GenerateCredentialReport", "times": 1000, "code": "Throttling", "account": ids[2]})
    entries = [entry(account, name=name, role_arn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account)
               for name, account in org["accounts"].items()]
    entries[1]["role_arn"] = "arn:aws:iam::%s:role/NoSuchRole" % ids[1]
    connection = accounts.Connection("us-east-1", simulator.url, credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"})
    params = {"accounts": entries, "role_session_name": "bench", "max_workers": 4, "fail_on": ["console_user_without_mfa"],
              "require_hardware_for": [], "require_phishing_resistant_for": [], "unused_access_key_days": 45, "max_report_age_hours": None,
              "report_wait_seconds": 30, "report_dir": str(tmp_path), "report_formats": ["json"]}
    try:
        result = audit_accounts(connection, params)
    finally:
        simulator.configure(roles_must_exist=False)
        simulator.reset()
    assert [item["account_id"] for item in result["accounts"]] == [ids[0], ids[3]]
    assert [(item["account_id"], item["code"]) for item in result["unreachable_accounts"]] == [(ids[1], "AccessDenied"), (ids[2], "Throttling")]
    assert result["accounts"][0]["failing"] == ["console_user_without_mfa"] and result["accounts"][1]["failing"] == []
    assert result["failure"].startswith("Findings listed in audit_fail_on were found in 1 account(s): %s (member-0000)" % ids[0])
    with open(result["unreachable_accounts"][0]["report_file"], encoding="utf-8") as handle:
        document = json.load(handle)
    assert document == {"account_id": ids[1], "account_name": "member-0001", "findings": [], "counts": {},
                        "unreachable": {"code": "AccessDenied", "message": result["unreachable_accounts"][0]["message"]}}
    stamps = {path.name.rsplit("-", 1)[1] for path in tmp_path.iterdir()}
    assert len(list(tmp_path.iterdir())) == 4 and len(stamps) == 1  # one stamp for the whole run
    assert result["totals"]["counts"]["orphaned_virtual_mfa_device"] == 1 and result["totals"]["unreachable"] == 2
    # account_unreachable in fail_on fails the run on them too
    params["fail_on"] = ["account_unreachable"]
    params["accounts"] = entries[1:2]
    simulator.configure(roles_must_exist=True)
    try:
        gated = audit_accounts(connection, params)
    finally:
        simulator.configure(roles_must_exist=False)
    assert "%s (member-0001): account_unreachable - AccessDenied" % ids[1] in gated["failure"]
