# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-user manifest: what a purge removes, written 0600 before the first change.

Also read back: the earlier manifests of a user name the virtual devices a
stopped run may have left unassigned.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time

from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import report


def manifest_document(facts, actions, caller):
    """Enough to recreate the user, minus secrets (which IAM never returns anyway)."""
    return {
        "format": "iamguard.aws/user-manifest/1",
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "written_by": caller["arn"],
        "user": facts["user"],
        "login_profile": facts["login_profile"],
        "access_keys": facts["access_keys"],
        "ssh_public_keys": facts["ssh_public_keys"],
        "signing_certificates": facts["signing_certificates"],
        "service_specific_credentials": facts["service_specific_credentials"],
        "mfa_devices": [{"serial_number": d["serial_number"], "type": d["type"], "enable_date": d["enable_date"]} for d in facts["mfa_devices"]],
        "groups": facts["groups"],
        "inline_policies": facts["inline_policies"],
        "attached_policies": facts["attached_policies"],
        "actions": report(actions),
    }


# <account>-<user>-<UTC time YYYYmmddTHHMMSSZ>-<token>.json; manifests written before the token have none.
# User names hold '-' too: the name is what lies between the account and the time.
_NAME = re.compile(r"^(?P<account>[^-]+)-(?P<user>.+)-\d{8}T\d{6}Z(?:-[0-9a-f]+)?\.json$")
TOKEN_BYTES = 8  # 16 hex digits


def manifest_path(folder, account, user_name):
    """A name no other run takes: two runs of the same users in the same second (a job launched twice) each get their own.

    The time keeps a folder's manifests in order; the random token, drawn again should the
    name exist, keeps processes apart (the writer still refuses a name that appears meanwhile).
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    while True:
        path = os.path.join(folder, "%s-%s-%s-%s.json" % (account, user_name, stamp, secrets.token_hex(TOKEN_BYTES)))
        if not os.path.lexists(path):
            return path


def manifest_user(entry, account):
    """The user name in manifest file name ``entry`` of ``account``, or None for any other file."""
    match = _NAME.match(entry)
    return match.group("user") if match and match.group("account") == account else None


def manifest_serials(folder, account, user_name):
    """Serials of the virtual devices the earlier manifests of ``user_name`` in ``folder`` name."""
    if not folder:
        return set()
    serials = set()
    for entry in sorted(os.listdir(folder)):
        if (manifest_user(entry, account) or "").lower() != user_name.lower():
            continue
        try:
            with open(os.path.join(folder, entry), encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            continue  # unreadable or not JSON: it names nothing
        if not isinstance(document, dict):
            continue
        for part in [document] + document.get("appeared_during_run", []):
            serials.update(device["serial_number"] for device in part.get("mfa_devices", []) if device.get("type") == "virtual")
    return serials


def to_json(document):
    """A manifest as written: stable key order, dates as text."""
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"
