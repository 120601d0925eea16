# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The posture report as Markdown (for people and tickets) and CSV (one row per finding), from its document (posture.posture)."""

from __future__ import annotations

import csv
import io
import json

from ansible_collections.iamguard.aws.plugins.module_utils.findings import SEVERITIES, standards_table
from ansible_collections.iamguard.aws.plugins.module_utils.report.cells import detail_text, markdown_row, spreadsheet_safe, who
from ansible_collections.iamguard.aws.plugins.module_utils.report.posture import severity_rank

CSV_COLUMNS = ("account_id", "account_name", "id", "severity", "title", "control", "user_name", "serial_number", "source", "detail")
NO_VALUE = "-"


def finding_ids(report):
    """The finding ids present, worst severity first: the columns of the accounts table."""
    severity = {item["id"]: item["severity"] for item in report["findings"]}
    return sorted(report["totals"]["by_id"], key=lambda finding_id: (severity_rank(severity[finding_id]), finding_id))


def account_cells(account, ids):
    """The accounts table's cells of one account (the Markdown and HTML tables show the same)."""
    return ([account["account_id"], account["account_name"] or NO_VALUE, "yes" if account["reachable"] else "no",
             NO_VALUE if account["users_audited"] is None else account["users_audited"]]
            + [account["by_severity"][severity] for severity in SEVERITIES] + [account["total"]]
            + [account["counts"].get(finding_id, 0) for finding_id in ids])


ACCOUNT_HEADERS = ("Account", "Name", "Reachable", "Users") + SEVERITIES + ("Findings",)


def _table(headers, rows):
    return [markdown_row(headers), markdown_row(("---",) * len(headers))] + [markdown_row(row) for row in rows]


def evidence_rows(report):
    for account in report["accounts"]:
        for kind, evidence in sorted(account["evidence"].items()):
            credential_report = evidence.get("credential_report") or {}
            yield (account["account_id"], kind, evidence["file"], evidence.get("generated_time") or credential_report.get("generated_time") or NO_VALUE,
                   credential_report.get("age_hours", NO_VALUE), evidence["sha256"])


EVIDENCE_HEADERS = ("Account", "Source", "File", "Generated", "Report age (hours)", "sha256")
CHANGE_HEADERS = ("Account", "Finding", "Severity", "User", "Serial number")
RANKING_HEADERS = ("Rank", "Account", "User", "Password last used", "Days since")
UNREACHABLE_HEADERS = ("Account", "Name", "Source", "Code", "Message")


def unreachable_rows(report):
    return [(u["account_id"], u["account_name"], u["source"], u["code"], u["message"]) for u in report["unreachable_accounts"]]


def change_rows(items):
    return [(item["account_id"], item["id"], item["severity"], who(item), item.get("serial_number")) for item in items]


def ranking_rows(report):
    return [(row["rank"], row["account_id"], row["user_name"], row["password_last_used"] or "unknown",
             NO_VALUE if row["days_since_sign_in"] is None else row["days_since_sign_in"]) for row in report["console_users_without_mfa"]]


def markdown(report, stamp):
    totals, change = report["totals"], report["changes"]
    ids = finding_ids(report)
    lines = ["# MFA posture of the organization", "", "Report %s, generated %s." % (stamp, report["generated_at"]), "",
             "**%s**" % report["verdict"]["text"], "", "## Totals", ""]
    lines += _table(("Accounts", "Reachable", "Users audited", "Findings") + SEVERITIES,
                    [[totals["accounts"], totals["reachable"], totals["users"], totals["findings"]] + [totals["by_severity"][s] for s in SEVERITIES]])
    lines += ["", "## Accounts, worst first", ""] + _table(ACCOUNT_HEADERS + tuple(ids), [account_cells(a, ids) for a in report["accounts"]])
    lines += ["", "## Accounts not reachable", ""]
    lines += _table(UNREACHABLE_HEADERS, unreachable_rows(report)) if report["unreachable_accounts"] else ["None."]
    lines += ["", "## Console users without MFA, most recent sign-in first", ""]
    lines += _table(RANKING_HEADERS, ranking_rows(report)) if report["console_users_without_mfa"] else ["None."]
    lines += ["", "## Changes since the previous report", ""]
    if change["previous_file"] is None:
        lines.append("No earlier report in the folder.")
    else:
        lines += ["Previous report %s, generated %s; this report generated %s. %d new, %d resolved."
                  % (change["previous_file"], change["previous_generated_at"], change["generated_at"], len(change["new"]), len(change["resolved"])), ""]
        lines += _table(("Account", "New", "Resolved"), [(account, n["new"], n["resolved"]) for account, n in change["by_account"].items()])
        for label in ("new", "resolved"):
            lines += ["", "### %s findings" % label.capitalize(), ""]
            lines += _table(CHANGE_HEADERS, change_rows(change[label])) if change[label] else ["None."]
        if change["not_reassessed"]:
            lines += ["", "Not audited again (their earlier findings are neither resolved nor new): %s." % ", ".join(change["not_reassessed"])]
    lines += ["", "## Findings", ""]
    lines += _table(("Account", "Finding", "Severity", "Control", "User", "Serial number", "Detail"),
                    [(i["account_id"], i["id"], i["severity"], i["control"], who(i), i["serial_number"], detail_text(i["detail"]))
                     for i in report["findings"]]) if report["findings"] else ["No findings."]
    lines += ["", "## Evidence", "", "Parameters: %s" % json.dumps(report["parameters"], sort_keys=True),
              "", "Caller: %s" % ((report["caller"] or {}).get("arn") or "not asked (caller_identity: false)"), ""]
    lines += _table(EVIDENCE_HEADERS, list(evidence_rows(report)))
    if report["inputs_rejected"]:
        lines += ["", "Files not used:", ""] + ["- %s: %s" % (r["file"], r["reason"]) for r in report["inputs_rejected"]]
    lines += ["", "## Standards", ""] + standards_table()
    return "\n".join(lines) + "\n"


def csv_text(report):
    """One row per finding, account_id first; a cell a spreadsheet would run as a formula is quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in report["findings"]:
        values = [item[column] for column in CSV_COLUMNS[:-1]] + [json.dumps(item["detail"], sort_keys=True)]
        writer.writerow([spreadsheet_safe(value) for value in values])
    return buffer.getvalue()
