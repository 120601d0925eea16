# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who must never be purged: the account's root user, the caller, protected_users patterns."""

from __future__ import annotations

import fnmatch


def caller_of(identity):
    """The facts of GetCallerIdentity the guard needs."""
    arn = identity["Arn"]
    name = arn.split("/")[-1] if ":user/" in arn else None
    return {"arn": arn, "user_id": identity.get("UserId"), "user_name": name, "account": identity["Account"]}


def guard(name=None, user_id=None, caller=None, protected=()):
    """Why this target must not be touched, or None."""
    # IAM user names are unique regardless of case ("Alice" is "alice"), so every name test ignores case.
    folded = name.lower() if name else None
    if folded == "root":
        return "root names the account's root user, which is never purged."
    if caller and ((folded and folded == (caller["user_name"] or "").lower()) or (user_id and user_id == caller["user_id"])):
        return "%s is the identity running this task; it is never purged." % (name or user_id)
    for pattern in protected:
        if folded and fnmatch.fnmatchcase(folded, pattern.lower()):
            return "%s is protected by protected_users pattern %r." % (name, pattern)
    return None
