# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which inventory source a purge reads users with: per user, or account-wide.

Both give the same facts through ``inventory(client, user_name, virtual, detailed, known_serials)``.
Account-wide reads cost a few calls plus about one per 100 users of the account and save
about six per target, so they pay for a batch, never for a handful of users in a big account.
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.sources import per_user
from ansible_collections.iamguard.aws.plugins.module_utils.sources.account import account_reads_pay, account_users, read_snapshot

# Below this many users the account is never read as a whole, nor its size asked.
MIN_ACCOUNT_TARGETS = 8


def choose_source(client, options, target_count):
    """(source, what the result says of it, warnings) for a run over ``target_count`` users."""
    wanted = options["inventory_source"]
    if wanted == "per_user":
        return _per_user("inventory_source=per_user")
    if wanted == "auto":
        if options["state"] != "absent":
            return _per_user("state=disabled: no DeleteUser would catch a credential the account-wide reads missed")
        if target_count < MIN_ACCOUNT_TARGETS:
            return _per_user("%d users: fewer than %d" % (target_count, MIN_ACCOUNT_TARGETS))
        try:
            users = account_users(client)
        except IamGuardError as e:
            return _per_user("the account's size could not be read", e)
        if not account_reads_pay(target_count, users):
            return _per_user("%d of the account's %d users: reading the whole account would cost more calls than it saves" % (target_count, users))
    try:
        snapshot = read_snapshot(client, options["report_wait_seconds"])
    except IamGuardError as e:
        if wanted == "account":
            raise IamGuardError("inventory_source=account: %s. Nothing was changed." % e.message, e.exception)
        return _per_user("the account-wide reads failed", e)
    return snapshot, snapshot.describe(), []


def _per_user(reason, error=None):
    warnings = []
    if error is not None:
        reason = "%s (%s)" % (reason, error.message)
        warnings.append("Every user was read on its own: %s." % reason)
    return per_user, {"source": "per_user", "reason": reason}, warnings
