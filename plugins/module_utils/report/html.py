# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The posture report as one self-contained HTML page: inline CSS (print CSS included) and an inline script that sorts
the accounts table by the header clicked. Every value is escaped, and the page's Content-Security-Policy allows
only this style and this script (by their sha256), no other script, no load from anywhere: a name that slipped
through escaping still could not run or fetch anything."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from ansible_collections.iamguard.aws.plugins.module_utils.findings import SEVERITIES
from ansible_collections.iamguard.aws.plugins.module_utils.report.cells import detail_text, who
from ansible_collections.iamguard.aws.plugins.module_utils.report.text import (
    ACCOUNT_HEADERS, CHANGE_HEADERS, EVIDENCE_HEADERS, RANKING_HEADERS, UNREACHABLE_HEADERS, account_cells, change_rows, evidence_rows, finding_ids,
    ranking_rows, unreachable_rows,
)

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#111}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}
td.n{text-align:right}
th.sortable{cursor:pointer;background:#eee}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.verdict{font-weight:bold;padding:.5em;border:2px solid #333}
.fail{background:#fdd}.incomplete{background:#ffd}.attention{background:#ffe}.pass{background:#dfd}
@media print{body{margin:0;font-size:9pt}th.sortable{background:none}h2{page-break-after:avoid}tr{page-break-inside:avoid}
th[aria-sort]::after{content:""}}
"""

# Sorts the accounts table by the clicked header: numbers as numbers, the rest as text; a second click reverses.
SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th, column) {
  th.classList.add("sortable");
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[column].textContent, y = b.cells[column].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def _digest(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _cell(value, tag="td"):
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return "<%s%s>%s</%s>" % (tag, ' class="n"' if number and tag == "td" else "", escape("" if value is None else str(value), quote=True), tag)


def _table(headers, rows, table_id=None, sortable=False):
    attributes = (' id="%s"' % table_id if table_id else "") + (' class="sortable"' if sortable else "")
    head = "<thead><tr>%s</tr></thead>" % "".join(_cell(header, "th") for header in headers)
    body = "<tbody>%s</tbody>" % "".join("<tr>%s</tr>" % "".join(_cell(value) for value in row) for row in rows)
    return "<table%s>%s%s</table>" % (attributes, head, body)


def _section(title, content, section_id):
    return '<section id="%s"><h2>%s</h2>%s</section>' % (section_id, escape(title), content)


def _paragraph(text):
    return "<p>%s</p>" % escape(text, quote=True)


def _changes(change):
    if change["previous_file"] is None:
        return _paragraph("No earlier report in the folder.")
    parts = [_paragraph("Previous report %s, generated %s; this report generated %s. %d new, %d resolved."
                        % (change["previous_file"], change["previous_generated_at"], change["generated_at"], len(change["new"]),
                           len(change["resolved"]))),
             _table(("Account", "New", "Resolved"), [(account, n["new"], n["resolved"]) for account, n in change["by_account"].items()], "changes")]
    for label in ("new", "resolved"):
        parts.append("<h3>%s findings</h3>" % label.capitalize())
        parts.append(_table(CHANGE_HEADERS, change_rows(change[label]), label) if change[label] else _paragraph("None."))
    if change["not_reassessed"]:
        parts.append(_paragraph("Not audited again (their earlier findings are neither resolved nor new): %s." % ", ".join(change["not_reassessed"])))
    return "".join(parts)


def html_page(report, stamp):
    totals = report["totals"]
    ids = finding_ids(report)
    csp = "default-src 'none'; style-src %s; script-src %s; img-src 'none'; base-uri 'none'; form-action 'none'" % (_digest(STYLE), _digest(SCRIPT))
    sections = [
        _section("Totals", _table(("Accounts", "Reachable", "Users audited", "Findings") + SEVERITIES,
                                  [[totals["accounts"], totals["reachable"], totals["users"], totals["findings"]]
                                   + [totals["by_severity"][s] for s in SEVERITIES]], "totals"), "totals-section"),
        _section("Accounts, worst first", _paragraph("Click a column header to sort.")
                 + _table(ACCOUNT_HEADERS + tuple(ids), [account_cells(a, ids) for a in report["accounts"]], "accounts", sortable=True), "accounts-section"),
        _section("Accounts not reachable", _table(UNREACHABLE_HEADERS, unreachable_rows(report), "unreachable")
                 if report["unreachable_accounts"] else _paragraph("None."), "unreachable-section"),
        _section("Console users without MFA, most recent sign-in first",
                 _table(RANKING_HEADERS, ranking_rows(report), "ranking") if report["console_users_without_mfa"] else _paragraph("None."), "ranking-section"),
        _section("Changes since the previous report", _changes(report["changes"]), "changes-section"),
        _section("Findings", _table(("Account", "Finding", "Severity", "Control", "User", "Serial number", "Detail"),
                                    [(i["account_id"], i["id"], i["severity"], i["control"], who(i), i["serial_number"], detail_text(i["detail"]))
                                     for i in report["findings"]], "findings") if report["findings"] else _paragraph("No findings."), "findings-section"),
        _section("Evidence", _paragraph("Caller: %s" % ((report["caller"] or {}).get("arn") or "not asked (caller_identity: false)"))
                 + _table(EVIDENCE_HEADERS, list(evidence_rows(report)), "evidence"), "evidence-section"),
    ]
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % escape(csp, quote=True),
        "<title>MFA posture of the organization, %s</title><style>%s</style></head><body>" % (escape(stamp), STYLE),
        "<h1>MFA posture of the organization</h1>",
        _paragraph("Report %s, generated %s." % (stamp, report["generated_at"])),
        '<p class="verdict %s" id="verdict">%s</p>' % (escape(report["verdict"]["status"], quote=True), escape(report["verdict"]["text"])),
        "".join(sections),
        "<script>%s</script></body></html>\n" % SCRIPT,
    ])
