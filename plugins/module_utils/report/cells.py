# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cell text every report writer shares: a Markdown table cell that nothing can break, a CSV cell no spreadsheet runs."""

from __future__ import annotations

import json

from ansible_collections.iamguard.aws.plugins.module_utils.findings import CENTRALIZED_ROOT_ACCESS_DISABLED
from ansible_collections.iamguard.aws.plugins.module_utils.report.inputs import ROOT_CREDENTIALS

# A spreadsheet runs a cell starting with one of these as a formula; IAM names may start with +, = or @.
FORMULA_STARTS = ("=", "+", "-", "@")
# Findings about no user: the User column names who they are about instead of staying empty.
ROOT_FINDING_PREFIX = "root_"


def markdown_cell(value):
    """Markdown table cell text: no pipe or line break can break the table, no angle bracket opens an HTML tag when rendered."""
    text = "" if value is None else str(value)
    for special in ("\\", "|", "<", ">"):
        text = text.replace(special, "\\" + special)
    return text.replace("\r", " ").replace("\n", " ")


def markdown_row(cells):
    return "| %s |" % " | ".join(markdown_cell(cell) for cell in cells)


def spreadsheet_safe(value):
    """CSV cell text; one a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def value_text(value):
    """A detail value as a person reads it: yes/no, unknown for a missing value, lists as JSON (never Python's None/True)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "unknown"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def detail_text(detail):
    return ", ".join("%s: %s" % (key, value_text(value)) for key, value in sorted((detail or {}).items()))


def who(item):
    """The User column: the user, the root user, nobody (a device enabled for no one), or the account (an account-wide finding)."""
    if item["user_name"]:
        return item["user_name"]
    # Every finding of the root credentials audit is about root (no_phishing_resistant_mfa included), but the organization's
    # centralized root access.
    if item["id"].startswith(ROOT_FINDING_PREFIX) or (item.get("source") == ROOT_CREDENTIALS and item["id"] != CENTRALIZED_ROOT_ACCESS_DISABLED):
        return "root user"
    return "nobody" if item.get("serial_number") else "the account"
