# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_mfa_audit over many accounts in one run, and the audit_fail_on decision.

Each account is audited by audit.audit through its own session (accounts.fan_out), and its
report set is written as soon as it is done, so the run keeps each account's figures, not
its findings or the answers read. Every file of the run carries the same UTC stamp. An
account that could not be read gets mfa-audit-<account>-<stamp>.json holding only
account_id, account_name, unreachable {code, message}, empty findings and counts.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from ansible_collections.iamguard.aws.plugins.module_utils import accounts as fanout, audit_report, validation
from ansible_collections.iamguard.aws.plugins.module_utils.audit import AUDIT_FINDINGS, audit, audit_and_report, audit_options, device_mix_text
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.findings import ACCOUNT_UNREACHABLE, MFA_AUDIT_FAIL_ON_IDS as FAIL_ON_IDS
from ansible_collections.iamguard.aws.plugins.module_utils.report.inputs import STAMP_FORMAT


def fail_on_list(values):
    """The fail_on ids, or InvalidInput naming the unknown ones before any AWS call."""
    unknown = [value for value in values if value not in FAIL_ON_IDS]
    if unknown:
        raise validation.InvalidInput("fail_on", unknown, "known ids are %s" % ", ".join(FAIL_ON_IDS))
    return list(values)


def failing(counts, fail_on):
    """The ids of ``fail_on`` found (count above 0) in an account's counts."""
    return [finding_id for finding_id in fail_on if counts.get(finding_id)]


def failure(audited, unreachable, fail_on):
    """The run's failure message per fail_on, or None: accounts with a listed finding, unreachable ones if account_unreachable is listed."""
    parts = ["%s (%s): %s" % (result["account_id"], result["name"],
                              ", ".join("%s x%d" % (finding_id, result["counts"][finding_id]) for finding_id in result["failing"]))
             for result in audited if result["failing"]]
    if ACCOUNT_UNREACHABLE in fail_on:
        parts.extend("%s (%s): %s - %s" % (item["account_id"], item["name"], ACCOUNT_UNREACHABLE, item["code"]) for item in unreachable)
    if not parts:
        return None
    return "Findings listed in audit_fail_on were found in %d account(s): %s" % (len(parts), "; ".join(parts))


def unreachable_report(folder, item, stamp):
    """mfa-audit-<account>-<stamp>.json of an account that could not be read (the report helpers read this contract)."""
    document = {"account_id": item["account_id"], "account_name": item["name"],
                "unreachable": {"code": item["code"], "message": item["message"]}, "findings": [], "counts": {}}
    path = os.path.join(folder, audit_report.file_name(item["account_id"], stamp, "json"))
    return write_private_file(path, json.dumps(document, indent=2, sort_keys=True) + "\n", "report_dir")


def audit_one(connection, account, options, stamp):
    """One account's audit, its report set written; only its figures are kept."""
    result = audit(fanout.account_client(connection, account), options)
    if account["account_id"] and result["account_id"] != account["account_id"]:
        raise IamGuardError("The credentials reached account %s, not %s; its report was not written." % (result["account_id"], account["account_id"]))
    kept = {"account_id": result["account_id"], "name": account["name"], "users_audited": result["users_audited"], "counts": result["counts"],
            "summary": result["summary"], "failing": failing(result["counts"], options["fail_on"]), "report_files": {}}
    if options["report_dir"]:
        if account["name"] != "localhost":  # an inventory host's name, which the posture report shows beside the id
            result["account_name"] = account["name"]
        kept["report_files"] = audit_report.write_reports(options["report_dir"], result, options["report_formats"], stamp, AUDIT_FINDINGS,
                                                          device_mix_text(result["device_mix"], result["device_mix_users_listed"]))
    return kept


def audit_accounts(connection, params):
    """iam_mfa_audit with ``accounts``: every account audited side by side; see the module's RETURN."""
    options = audit_options(params)
    options["fail_on"] = fail_on_list(params["fail_on"])
    accounts = fanout.account_list(params["accounts"], params["role_session_name"])
    fanout.worker_count(params["max_workers"], accounts)
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    audited, unreachable = fanout.fan_out(accounts, lambda account: audit_one(connection, account, options, stamp), params["max_workers"])
    if options["report_dir"]:
        for item in unreachable:
            item["report_file"] = unreachable_report(options["report_dir"], item, stamp)
    totals = {"accounts": len(accounts), "audited": len(audited), "unreachable": len(unreachable),
              "users_audited": sum(result["users_audited"] for result in audited),
              "counts": {finding_id: sum(result["counts"][finding_id] for result in audited) for finding_id in AUDIT_FINDINGS}}
    summary = ["%d accounts: %d audited, %d unreachable; %d users audited." % (len(accounts), len(audited), len(unreachable), totals["users_audited"])]
    result = {"changed": False, "generated_time": stamp.strftime(STAMP_FORMAT), "accounts": audited, "unreachable_accounts": unreachable, "totals": totals,
              "summary": summary + ["%s: %d" % (finding_id, n) for finding_id, n in totals["counts"].items() if n]
              + ["%s (%s) unreachable: %s: %s" % (item["account_id"], item["name"], item["code"], item["message"]) for item in unreachable]}
    message = failure(audited, unreachable, options["fail_on"])
    if message:
        result["failure"] = message
    return result


def audit_caller_account(client, params):
    """iam_mfa_audit without ``accounts``: the caller's account (audit.audit_and_report), failed per fail_on."""
    fail_on = fail_on_list(params["fail_on"])
    result = audit_and_report(client, params)
    found = failing(result["counts"], fail_on)
    if found:
        result["failure"] = failure([{"account_id": result["account_id"], "name": "caller", "counts": result["counts"], "failing": found}], [], fail_on)
    return result
