# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Purging and disabling IAM users: the iam_user_purge entry points.

``purge_options`` checks the input before any call; ``purge`` resolves the
targets, chooses the inventory source (sources/choice.py) and runs the batch
(batch.py), whose every user goes through guard (guards.py), inventory (sources/), the pure plan (plans/user.py), the manifest
(manifest.py) and apply.
"""

from __future__ import annotations

import os

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.batch import Batch, missing_users, run_batch
from ansible_collections.iamguard.aws.plugins.module_utils.files import sweep_stale_temp_files
from ansible_collections.iamguard.aws.plugins.module_utils.guards import caller_of
from ansible_collections.iamguard.aws.plugins.module_utils.sources.choice import choose_source
from ansible_collections.iamguard.aws.plugins.module_utils.sources.per_user import index_users_by_id

MAX_WORKERS = 32
MAX_CONFLICT_RETRIES = 10


def purge_options(params):
    """Validated iam_user_purge options, or InvalidInput before any AWS call."""
    options = dict(params)
    names = validation.name_list(options["user_names"], "user_names")
    options["user_names"] = _unique(validation.user_name(name, "user_names") for name in names)
    options["user_ids"] = _unique(validation.user_id(user_id, "user_ids") for user_id in options["user_ids"] or [])
    if not options["user_names"] and not options["user_ids"]:
        raise validation.InvalidInput("user_names", [], "give at least one user name or user id")
    for pattern in options["protected_users"]:
        if not isinstance(pattern, str) or not pattern.strip():
            raise validation.InvalidInput("protected_users", pattern, "each entry is a user name or glob pattern, not empty")
    if not 1 <= options["max_workers"] <= MAX_WORKERS:
        raise validation.InvalidInput("max_workers", options["max_workers"], "between 1 and %d" % MAX_WORKERS)
    if not 0 <= options["max_conflict_retries"] <= MAX_CONFLICT_RETRIES:
        raise validation.InvalidInput("max_conflict_retries", options["max_conflict_retries"], "between 0 and %d" % MAX_CONFLICT_RETRIES)
    if options["state"] == "absent" and options["access_key_action"] == "deactivate":
        raise validation.InvalidInput("access_key_action", "deactivate", "state=absent deletes the user and so its keys; deactivate is for state=disabled")
    if options["state"] == "absent" and options["remove_permissions"] is False:
        raise validation.InvalidInput("remove_permissions", False, "state=absent must remove permissions to delete the user")
    validation.report_wait_seconds(options["report_wait_seconds"])
    if options["state"] == "disabled" and options["inventory_source"] == "account":
        raise validation.InvalidInput("inventory_source", "account", "state=disabled needs inventory_source=per_user or auto: without DeleteUser, "
                                      "nothing would catch a credential added after the credential report the account-wide source trusts")
    if options["manifest_dir"]:
        folder = options["manifest_dir"]
        if os.path.islink(folder) or not os.path.isdir(folder):
            raise validation.InvalidInput("manifest_dir", folder, "must be an existing folder, not a symbolic link")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise validation.InvalidInput("manifest_dir", folder, "must be writable")
    return options


def _unique(values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def resolve_targets(client, options):
    """Names as given; ids through one shared ListUsers walk (None when unknown)."""
    targets = [{"requested": name, "user_name": name} for name in options["user_names"]]
    if options["user_ids"]:
        by_id = index_users_by_id(client)
        for user_id in options["user_ids"]:
            found = by_id.get(user_id)
            targets.append({"requested": user_id, "user_id": user_id, "user_name": found["UserName"] if found else None})
    return _once_per_user(targets)


def _once_per_user(targets):
    """One target per user: a user named twice (by name and id, or in two cases) is purged once."""
    seen = set()
    unique = []
    for target in targets:
        key = (target["user_name"] or target["requested"]).lower()
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


def purge(client, caller_identity, options, check_mode, lacks_mfa=lambda: False):
    """The iam_user_purge module result for validated ``options``.

    ``lacks_mfa()`` tells whether the session is known to carry no MFA (client.credentials_lack_mfa).
    """
    caller = caller_of(caller_identity())
    if options["manifest_dir"] and not check_mode:
        # A run killed while writing a manifest left its temp file: this run finishes that run's work.
        sweep_stale_temp_files(options["manifest_dir"])
    targets = resolve_targets(client, options)
    source, inventory_source, warnings = choose_source(client, options, sum(1 for target in targets if target["user_name"]))
    # With fewer users than workers, the spare workers' share goes to each user's reads, sent at once.
    batch = Batch(client, options, check_mode, caller, lacks_mfa, source, parallel_reads=len(targets) < options["max_workers"])
    users = run_batch(batch, targets, options["max_workers"])
    warnings += [warning for user in users for warning in user.pop("warnings")]
    missing, missing_warnings = missing_users(users, caller["account"])
    diffs = [(user["requested"], user.pop("diff")) for user in users]
    result = {
        "changed": any(user["actions"] for user in users),
        "users": users,
        "inventory": inventory_source,
        "missing_users": missing,
        "warnings": warnings + missing_warnings,
        "diff": {"before": {name: diff["before"] for name, diff in diffs if diff}, "after": {name: diff["after"] for name, diff in diffs if diff}},
    }
    failing = ("failed", "protected") if options["fail_on_protected"] else ("failed",)
    failed = [dict(user, error=user["error"] or "no such user") for user in users
              if user["status"] in failing or (options.get("fail_on_missing") and user["requested"] in missing)]
    if failed:
        result["failure"] = "%d of %d users could not be %s: %s" % (
            len(failed), len(users), "deleted" if options["state"] == "absent" else "disabled",
            "; ".join("%s: %s" % (user["requested"], user["error"]) for user in failed),
        )
    return result
