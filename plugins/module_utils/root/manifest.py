# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root credentials manifests: written before the first removal, marked finished after the last one.

A run stopped between DeactivateMFADevice and DeleteVirtualMFADevice leaves root's virtual
device unassigned: ListMFADevices no longer shows it and the delete task policy cannot list
virtual devices. Its manifest, written first and marked finished only after the last action,
still names it, so the next run deletes it.
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.iamguard.aws.plugins.module_utils import manifest
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import report
from ansible_collections.iamguard.aws.plugins.module_utils.plans.root import MFA_DEVICES, remaining
from ansible_collections.iamguard.aws.plugins.module_utils.tags import VIRTUAL

MANIFEST_NAME = "root-credentials"  # <account>-root-credentials-<UTC time>.json
DELETED_LEFTOVERS = "deleted_leftovers"  # in a manifest not finished yet: its deactivated virtual devices a later run deleted


def manifest_document(account_id, facts, actions, caller_arn, written_at):
    return {
        "format": "iamguard.aws/root-credentials-manifest/1",
        "written_at": written_at,
        "written_by": caller_arn,
        "account_id": account_id,
        "root_credentials": facts,
        "actions": report(actions),
    }


def unfinished_manifests(folder, account_id):
    """{path: document} of this account's earlier root manifests in ``folder`` that were never marked finished."""
    if not folder:
        return {}
    prefix = "%s-%s-" % (account_id, MANIFEST_NAME)
    found = {}
    for entry in sorted(os.listdir(folder)):
        if not (entry.startswith(prefix) and entry.endswith(".json")):
            continue
        path = os.path.join(folder, entry)
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            continue  # unreadable or not JSON: it names nothing
        if isinstance(document, dict) and not document.get("finished_at"):
            found[path] = document
    return found


def _named_virtual(document):
    """The virtual serials a manifest names and has not recorded as deleted since (DELETED_LEFTOVERS)."""
    devices = (document.get("root_credentials") or {}).get(MFA_DEVICES, [])
    return {device["serial_number"] for device in devices if device.get("type") == VIRTUAL} - set(document.get(DELETED_LEFTOVERS, []))


def leftover_serials(unfinished, facts):
    """Virtual serials the unfinished manifests name that ListMFADevices no longer shows (deactivated, maybe not deleted)."""
    listed = {device["serial_number"] for device in facts[MFA_DEVICES]}
    return sorted(set().union(*(_named_virtual(document) for document in unfinished.values())) - listed)


def finished_manifests(documents, after):
    """The {path: document} whose every action's target is gone from ``after`` (root's credentials read after this run).

    A virtual serial an unfinished manifest names and ListMFADevices no longer shows is deleted by this run (see
    plan_removal), so only what root still holds keeps a manifest unfinished: a run limited to some credential
    types finishes no manifest whose other removals are still to do.
    """
    left = remaining(after)
    return {path: document for path, document in documents.items() if not {action["target"] for action in document.get("actions", [])} & left}


def mark_progress(documents, finished, deleted):
    """Rewrite the manifests this run finished with the time it ended (finished_at), and the others that name a
    virtual device it deleted (``deleted``) with that device in DELETED_LEFTOVERS, so no later run plans it again."""
    finished_at = utc_time()
    for path, document in documents.items():
        if path in finished:
            changes = {"finished_at": finished_at}
        elif _named_virtual(document) & set(deleted):
            changes = {DELETED_LEFTOVERS: sorted(set(document.get(DELETED_LEFTOVERS, [])) | (_named_virtual(document) & set(deleted)))}
        else:
            continue
        write_private_file(path, manifest.to_json(dict(document, **changes)), "manifest_dir", force=True)


def utc_time():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
