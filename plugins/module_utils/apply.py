# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one executor of plans: each Action of a plan as an IAM call, or as a step a handler owns."""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call


def apply(client, actions, handlers=None):
    """Run ``actions`` in order.

    Removals are idempotent: NoSuchEntity means the thing is already gone (and so does it for the
    intent tag put on a device about to be removed).
    ``handlers`` maps an action name to ``handler(client, action)`` for steps
    that need more than one plain call (they raise IamGuardError on failure).
    """
    handlers = handlers or {}
    for action in actions:
        handler = handlers.get(action.action)
        if handler is not None:
            handler(client, action)
        else:
            call(client, action.action, "%s %s" % (action.action, action.target), missing_ok=missing_ok(action), **action.params)


def missing_ok(action):
    # Plain tag_mfa_device steps are the removal intent (enrolment's own tagging has a handler): a device gone needs none.
    return is_removal(action) or action.action == "tag_mfa_device"


def is_removal(action):
    return action.action.startswith(("delete_", "deactivate_", "detach_", "remove_"))
