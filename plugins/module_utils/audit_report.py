# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's report set: Markdown for people, JSON for machines, CSV for spreadsheets.

Every file is written 0600 through files.write_private_file. The audit's facts hold no
secret (the credential report has no key ids or passwords, device lists no seeds), and
the writers only ever see the audit result.
"""

from __future__ import annotations

import csv
import io
import json
import os

from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.report.cells import detail_text, markdown_row, spreadsheet_safe, who
from ansible_collections.iamguard.aws.plugins.module_utils.report.inputs import STAMP_FORMAT

FORMATS = ("markdown", "json", "csv")
EXTENSIONS = {"markdown": "md", "json": "json", "csv": "csv"}
CSV_COLUMNS = ("account_id", "id", "control", "severity", "title", "user_name", "serial_number", "detail")
REPORTED_KEYS = ("account_id", "users_audited", "credential_report", "counts", "device_mix", "device_mix_users_listed", "type_differences",
                 "summary", "findings")


def file_name(account_id, at, fmt):
    """mfa-audit-<account id>-<UTC time YYYYmmddTHHMMSSZ>.<md|json|csv>"""
    return "mfa-audit-%s-%s.%s" % (account_id, at.strftime(STAMP_FORMAT), EXTENSIONS[fmt])


def markdown(result, finding_info, device_mix_line):
    """Summary table first, then the findings grouped by control. ``finding_info``: {id: (control, severity, title)};
    ``device_mix_line``: what the device counts are, in a sentence."""
    report = result["credential_report"]
    lines = [
        "# MFA audit of AWS account %s" % result["account_id"],
        "",
        "%d users audited. Credential report generated %s (%s hours old)." % (result["users_audited"], report["generated_time"], report["age_hours"]),
        "",
        "## Summary",
        "",
        markdown_row(("Finding", "Control", "Severity", "Count")),
        markdown_row(("---",) * 4),
    ]
    lines.extend(markdown_row((finding_id, control, severity, result["counts"][finding_id])) for finding_id, (control, severity, dummy) in finding_info.items())
    lines += ["", device_mix_line]
    if result["type_differences"]:
        lines += ["", "Devices whose type by serial shape alone would differ:", ""]
        lines.extend(
            "- %s (%s): %s here, %s by serial shape" % (d["serial_number"], d["user_name"], d["type"], d["type_by_serial"]) for d in result["type_differences"]
        )
    lines += ["", "## Findings by control"]
    controls = {}
    for item in result["findings"]:
        controls.setdefault(item["control"], []).append(item)
    if not controls:
        lines += ["", "No findings."]
    for control, items in controls.items():
        lines += ["", "### %s" % control, "", markdown_row(("Finding", "Severity", "User", "Serial number", "Detail")), markdown_row(("---",) * 5)]
        lines.extend(markdown_row((i["id"], i["severity"], who(i), i["serial_number"], detail_text(i["detail"]))) for i in items)
    return "\n".join(lines) + "\n"


def json_text(result):
    """The REPORTED_KEYS, and the account's name (account_name) when the run knew one (an inventory host's)."""
    named = {"account_name": result["account_name"]} if result.get("account_name") else {}
    return json.dumps(dict({key: result[key] for key in REPORTED_KEYS}, **named), indent=2, sort_keys=True) + "\n"


def csv_text(result):
    """One row per finding, each with its account, so the CSVs of many accounts concatenate."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in result["findings"]:
        values = [result["account_id"]] + [item[column] for column in CSV_COLUMNS[1:-1]] + [json.dumps(item["detail"], sort_keys=True)]
        writer.writerow([spreadsheet_safe(value) for value in values])
    return buffer.getvalue()


def write_reports(folder, result, formats, at, finding_info, device_mix_line):
    """Write the report set to ``folder`` (0600 each); returns {format: path} for every format written."""
    renderers = {
        "markdown": lambda: markdown(result, finding_info, device_mix_line),
        "json": lambda: json_text(result),
        "csv": lambda: csv_text(result),
    }
    paths = {}
    for fmt in FORMATS:
        if fmt in formats:
            paths[fmt] = write_private_file(os.path.join(folder, file_name(result["account_id"], at, fmt)), renderers[fmt](), "report_dir")
    return paths
