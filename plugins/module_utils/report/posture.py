# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The organization's MFA posture (pure): the accounts' latest report sets merged, ranked, and set against the last report.

A finding's identity is (account_id, id, user_name, serial_number): the same identity in
two reports is the same finding. An account that is unreachable now, or missing from this
report, was not audited again: its earlier findings are listed as not re-assessed, never
as resolved.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from ansible_collections.iamguard.aws.plugins.module_utils.findings import (
    ACCOUNT_UNREACHABLE, CONSOLE_USER_WITHOUT_MFA, ROOT_ACCESS_KEY, ROOT_VIRTUAL_MFA, ROOT_WITHOUT_MFA, SEVERITIES, STANDARDS, finding,
)
from ansible_collections.iamguard.aws.plugins.module_utils.report.inputs import MFA_AUDIT, ROOT_CREDENTIALS

SCHEMA_VERSION = 1
# Root's findings that both audits raise (the MFA audit from the credential report's root row): the newer audit's view counts.
BOTH_AUDITS = (ROOT_WITHOUT_MFA, ROOT_VIRTUAL_MFA, ROOT_ACCESS_KEY)
FINDING_KEYS = ("account_id", "account_name", "id", "severity", "title", "control", "user_name", "serial_number", "detail", "source",
                "security_hub", "cis_v7", "cis_v3")


def identity(item):
    return (item["account_id"], item["id"], item.get("user_name"), item.get("serial_number"))


def severity_rank(severity):
    """0 for critical ... 4 for informational; an unknown severity sorts last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _finding(account_id, account_name, source, item):
    """A finding of an input, with its account and source; a known id's severity, title and control are the table's of today."""
    standard = STANDARDS.get(item["id"])
    values = finding(item["id"]) if standard else {key: item.get(key) for key in ("id", "severity", "title", "control")}
    values.update(account_id=account_id, account_name=account_name, source=source, user_name=item.get("user_name"),
                  serial_number=item.get("serial_number"), detail=item.get("detail") if isinstance(item.get("detail"), dict) else {},
                  security_hub=standard and standard.security_hub, cis_v7=standard and standard.cis_v7, cis_v3=standard and standard.cis_v3)
    return {key: values[key] for key in FINDING_KEYS}


def _evidence(kind, entry):
    document = entry["document"]
    evidence = {"file": entry["file"], "stamp": entry["stamp"], "sha256": entry["sha256"]}
    if kind == MFA_AUDIT and "credential_report" in document:
        evidence["credential_report"] = document["credential_report"]
    if kind == ROOT_CREDENTIALS:
        evidence["generated_time"] = document.get("generated_time")
    return evidence


def account_summary(account_id, sets):
    """One account's row and findings from its latest inputs {kind: {"file", "stamp", "sha256", "document"}}."""
    name = next((entry["document"]["account_name"] for entry in sets.values() if entry["document"].get("account_name")), None)
    findings, unreachable = [], []
    read = sorted((sets[kind]["stamp"], kind) for kind in (MFA_AUDIT, ROOT_CREDENTIALS) if kind in sets and "unreachable" not in sets[kind]["document"])
    older = read[0][1] if len(read) == 2 and read[0][0] < read[1][0] else None  # of the same time, both count
    for kind in (MFA_AUDIT, ROOT_CREDENTIALS):
        if kind not in sets:
            continue
        document = sets[kind]["document"]
        if "unreachable" in document:
            why = {"source": kind, "code": document["unreachable"].get("code"), "message": document["unreachable"].get("message")}
            unreachable.append(why)
            findings.append(_finding(account_id, name, kind, finding(ACCOUNT_UNREACHABLE, **why)))
            continue
        # Root's findings of the credential report's root row and of the root audit are one finding each, as the newer
        # of the two audits has them (a root cleanup between the audits resolves what the older one still shows).
        raw_findings = [raw for raw in document["findings"] if raw["id"] not in BOTH_AUDITS or kind != older]
        seen = {identity(item) for item in findings}
        findings.extend(item for item in (_finding(account_id, name, kind, raw) for raw in raw_findings) if identity(item) not in seen)
    mfa = sets.get(MFA_AUDIT, {}).get("document", {})
    by_severity = Counter(item["severity"] for item in findings)
    return {
        "account_id": account_id,
        "account_name": name,
        "reachable": not unreachable,
        "unreachable": unreachable,
        "users_audited": mfa.get("users_audited"),
        "counts": dict(Counter(item["id"] for item in findings)),
        "by_severity": {severity: by_severity[severity] for severity in SEVERITIES},
        "total": len(findings),
        "evidence": {kind: _evidence(kind, entry) for kind, entry in sets.items()},
    }, findings


def worst_first(account):
    return tuple(-account["by_severity"][severity] for severity in SEVERITIES) + (-account["total"], account["account_id"])


def _parsed_time(text):
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:  # "N/A", "no_information"
        return None
    return parsed if parsed.tzinfo else None


def sign_in_ranking(findings, now):
    """Console users without MFA, the most recent sign-in first; those with no known sign-in after, by account and name."""
    ranked = []
    for item in findings:
        if item["id"] != CONSOLE_USER_WITHOUT_MFA:
            continue
        last = item["detail"].get("password_last_used")
        when = _parsed_time(last)
        ranked.append({"account_id": item["account_id"], "account_name": item["account_name"], "user_name": item["user_name"],
                       "password_last_used": last, "days_since_sign_in": (now - when).days if when else None, "_when": when})
    ranked.sort(key=lambda row: (row["_when"] is None, -(row["_when"].timestamp() if row["_when"] else 0), row["account_id"], row["user_name"] or ""))
    return [dict({key: value for key, value in row.items() if key != "_when"}, rank=number) for number, row in enumerate(ranked, 1)]


def totals(accounts, findings):
    by_severity = Counter(item["severity"] for item in findings)
    return {
        "accounts": len(accounts),
        "reachable": sum(1 for account in accounts if account["reachable"]),
        "users": sum(account["users_audited"] or 0 for account in accounts),
        "findings": len(findings),
        "by_severity": {severity: by_severity[severity] for severity in SEVERITIES},
        "by_id": dict(sorted(Counter(item["id"] for item in findings).items())),
    }


def verdict(total):
    """(status, sentence): fail on a critical or high finding, incomplete when an account went unread, attention on any other finding."""
    severe = total["by_severity"]["critical"] + total["by_severity"]["high"]
    unread = total["accounts"] - total["reachable"]
    if not total["accounts"]:
        return "incomplete", "INCOMPLETE: no account report set found."
    if severe:
        status = "fail"
    elif unread:
        status = "incomplete"
    else:
        status = "attention" if total["findings"] else "pass"
    sentence = "%s: %d critical and %d high findings (%d in all) across %s, %d reachable; %s audited." % (
        status.upper(), total["by_severity"]["critical"], total["by_severity"]["high"], total["findings"], _counted(total["accounts"], "account"),
        total["reachable"], _counted(total["users"], "user"))
    return status, sentence


def _counted(number, noun):
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


def changes(report, previous_file, previous):
    """New and resolved findings since ``previous`` (an earlier report document), per account, with both reports' times."""
    if previous is None:
        return {"previous_file": None, "previous_generated_at": None, "generated_at": report["generated_at"], "new": [], "resolved": [],
                "not_reassessed": [], "by_account": {}}
    before = {identity(item): item for item in previous["findings"] if isinstance(item, dict) and "account_id" in item and "id" in item}
    now = {identity(item): item for item in report["findings"]}
    reassessed = {account["account_id"] for account in report["accounts"] if account["reachable"]}
    new = [item for key, item in now.items() if key not in before]
    resolved = [item for key, item in before.items() if key not in now and key[0] in reassessed]
    by_account = {}
    for label, items in (("new", new), ("resolved", resolved)):
        for item in items:
            by_account.setdefault(item["account_id"], {"new": 0, "resolved": 0})[label] += 1
    return {
        "previous_file": previous_file,
        "previous_generated_at": previous.get("generated_at"),
        "generated_at": report["generated_at"],
        "new": new,
        "resolved": resolved,
        "not_reassessed": sorted({key[0] for key in before if key[0] not in reassessed}),
        "by_account": dict(sorted(by_account.items())),
    }


def posture(inputs, rejected, now, parameters, caller, previous_file=None, previous=None):
    """The report document (see the module's RETURN and README's schema) of ``inputs`` (inputs.read_inputs)."""
    accounts, findings = [], []
    for account_id, sets in sorted(inputs.items()):
        account, found = account_summary(account_id, sets)
        accounts.append(account)
        findings.extend(found)
    accounts.sort(key=worst_first)
    order = {account["account_id"]: number for number, account in enumerate(accounts)}
    findings.sort(key=lambda item: (order[item["account_id"]], severity_rank(item["severity"]), item["id"], item["user_name"] or "",
                                    item["serial_number"] or ""))
    total = totals(accounts, findings)
    status, sentence = verdict(total)
    report = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "parameters": parameters,
        "caller": caller,
        "verdict": {"status": status, "text": sentence},
        "totals": total,
        "accounts": accounts,
        "unreachable_accounts": [dict(why, account_id=a["account_id"], account_name=a["account_name"]) for a in accounts for why in a["unreachable"]],
        "console_users_without_mfa": sign_in_ranking(findings, now),
        "findings": findings,
        "inputs": [{"file": e["file"], "sha256": e["sha256"]} for a in accounts for e in a["evidence"].values()],
        "inputs_rejected": rejected,
    }
    report["changes"] = changes(report, previous_file, previous)
    return report
