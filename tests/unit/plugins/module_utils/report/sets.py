# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Account report sets as the audits write them, for the posture report's unit and integration tests."""

from __future__ import annotations

import json
import os

from ansible_collections.iamguard.aws.plugins.module_utils import audit, audit_report
from ansible_collections.iamguard.aws.plugins.module_utils.findings import finding

ROOT_SERIAL = "arn:aws:iam::%s:mfa/root-account-mfa-device"


def mfa_set(folder, account_id, stamp, findings, users=3, name=None, generated="2026-12-06T06:00:00+00:00", age_hours=2.0):
    """Write mfa-audit-<account>-<stamp>.json through the audit's own JSON writer; returns its file name."""
    result = {"account_id": account_id, "users_audited": users, "findings": findings, "counts": audit.counts(findings),
              "device_mix": {"virtual": 1, "hardware": 0, "passkey": 0}, "device_mix_users_listed": 0, "type_differences": [],
              "credential_report": {"generated_time": generated, "age_hours": age_hours}, "summary": []}
    document = json.loads(audit_report.json_text(result))
    if name:
        document["account_name"] = name
    return _write(folder, "mfa-audit-%s-%s.json" % (account_id, stamp), document)


def root_set(folder, account_id, stamp, findings, generated="2026-12-06T07:00:00+00:00"):
    document = {"account_id": account_id, "generated_time": generated, "organization": {"centralized_root_access": True},
                "credentials": {"login_profile": None, "access_keys": [], "signing_certificates": [], "mfa_devices": []},
                "findings": findings, "counts": {}}
    return _write(folder, "root-credentials-%s-%s.json" % (account_id, stamp), document)


def unreachable_set(folder, account_id, stamp, code="AccessDenied", message="not authorized to perform sts:AssumeRole", name=None,
                    kind="mfa-audit"):
    document = {"account_id": account_id, "account_name": name, "unreachable": {"code": code, "message": message}, "findings": [], "counts": {}}
    return _write(folder, "%s-%s-%s.json" % (kind, account_id, stamp), document)


def _write(folder, name, document):
    with open(os.path.join(str(folder), name), "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    return name


def organization(folder, stamp="20261206T080000Z"):
    """Four accounts: A worst (root without MFA, two console users), B (one console user, renamed hostile), C unreachable,
    D clean; A also has an older set that must not count."""
    a, b, c, d = "111111111111", "222222222222", "333333333333", "444444444444"
    mfa_set(folder, a, "20261101T000000Z", [finding("console_user_without_mfa", "stale-user")], users=99)
    mfa_set(folder, a, stamp, [
        finding("root_without_mfa"),
        finding("console_user_without_mfa", "alice", password_last_used="2026-12-05T10:00:00+00:00"),
        finding("user_without_mfa", "alice", console_access=True),
        finding("console_user_without_mfa", "bob", password_last_used="2026-06-01T10:00:00+00:00"),
        finding("user_without_mfa", "bob", console_access=True),
    ], users=10, name="prod")
    root_set(folder, a, stamp, [finding("root_without_mfa"), finding("root_access_key", access_key_id="AKIA0", active=True, last_used=None)])
    mfa_set(folder, b, stamp, [
        finding("console_user_without_mfa", "=HYPERLINK(\"x\")<script>alert(1)</script>", password_last_used="2026-12-06T07:00:00+00:00"),
        finding("unused_access_key", "svc", access_key=1, days_unused=99, last_used=None, last_rotated="2026-01-01T00:00:00+00:00"),
    ], users=4, name="dev & <test>")
    unreachable_set(folder, c, stamp, name="sandbox")
    mfa_set(folder, d, stamp, [], users=2, name="logs")
    return {"worst": a, "hostile": b, "unreachable": c, "clean": d}
