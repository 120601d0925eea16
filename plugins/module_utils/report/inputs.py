# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The posture report's inputs: the latest report set of each account in a folder, read once and hashed as read.

The audits write ``mfa-audit-<account id>-<UTC YYYYmmddTHHMMSSZ>.json`` and
``root-credentials-<account id>-<stamp>.json`` (either may hold, for an account the
fan-out could not read, ``{"account_id", "account_name", "unreachable": {"code",
"message"}, "findings": [], "counts": {}}``). Several runs, or the slices of one AWX job,
leave several sets: per account and kind the latest stamp wins. Names are matched whole,
so other files (root manifests ``<account>-root-credentials-...``, the Markdown and CSV
of a set) are not inputs. A file that is a symbolic link, not JSON, or not about the
account its name gives is rejected, with the reason, and the rest of the folder is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat

MFA_AUDIT = "mfa_audit"
ROOT_CREDENTIALS = "root_credentials"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_STAMP = r"([0-9]{8}T[0-9]{6}Z)"
INPUT_NAMES = {
    MFA_AUDIT: re.compile(r"mfa-audit-([0-9]{12})-%s\.json" % _STAMP),
    ROOT_CREDENTIALS: re.compile(r"root-credentials-([0-9]{12})-%s\.json" % _STAMP),
}
REPORT_PREFIX = "posture-report-"
REPORT_NAME = re.compile(re.escape(REPORT_PREFIX) + _STAMP + r"\.json")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def read_document(path):
    """(document, sha256 of the bytes read) of a regular file holding a JSON object; ValueError saying why not."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as e:
        raise ValueError("cannot be opened (%s)" % (e.strerror or e))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError("not a regular file")
        data = handle.read()
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("not JSON (%s)" % e)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document, sha256_hex(data)


def latest_names(names):
    """{account id: {kind: (stamp, name)}} of the latest input of each kind per account, among file ``names``."""
    latest = {}
    for name in names:
        for kind, pattern in INPUT_NAMES.items():
            match = pattern.fullmatch(name)
            if match:
                account_id, stamp = match.groups()
                sets = latest.setdefault(account_id, {})
                if kind not in sets or stamp > sets[kind][0]:
                    sets[kind] = (stamp, name)
    return latest


def _checked(document, account_id, kind):
    """Why ``document`` is not a usable input of ``account_id`` and ``kind``, or None."""
    if document.get("account_id") != account_id:
        return "its account_id %r is not the %s of its name" % (document.get("account_id"), account_id)
    if "unreachable" in document:
        unreachable = document["unreachable"]
        return None if isinstance(unreachable, dict) else "unreachable is not an object"
    if not isinstance(document.get("findings"), list) or not all(isinstance(item, dict) and "id" in item for item in document["findings"]):
        return "findings is not a list of findings"
    if kind == MFA_AUDIT and not isinstance(document.get("credential_report"), dict):
        return "credential_report is missing"
    return None


def read_inputs(folder):
    """(accounts, rejected): accounts {account id: {kind: {"file", "stamp", "sha256", "document"}}} of the latest
    readable input per account and kind; rejected [{"file", "reason"}] of the latest inputs that could not be used."""
    accounts, rejected = {}, []
    for account_id, sets in sorted(latest_names(os.listdir(folder)).items()):
        for kind, (stamp, name) in sorted(sets.items()):
            try:
                document, digest = read_document(os.path.join(folder, name))
                reason = _checked(document, account_id, kind)
            except ValueError as e:
                reason = str(e)
            if reason:
                rejected.append({"file": name, "reason": reason})
                continue
            accounts.setdefault(account_id, {})[kind] = {"file": name, "stamp": stamp, "sha256": digest, "document": document}
    return accounts, rejected


def previous_report(folder, before_stamp):
    """(file name, document) of the latest posture report JSON in ``folder`` older than ``before_stamp``, or (None, None).

    One that cannot be read as a report (no schema_version) is passed over for the one before it.
    """
    stamps = sorted((m.group(1), name) for name in os.listdir(folder) for m in [REPORT_NAME.fullmatch(name)] if m)
    for stamp, name in reversed(stamps):
        if stamp >= before_stamp:
            continue
        try:
            document, dummy = read_document(os.path.join(folder, name))
        except ValueError:
            continue
        if "schema_version" in document and isinstance(document.get("findings"), list):
            return name, document
    return None, None
