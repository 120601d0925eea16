# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions: what a plan is made of, and the one executor of plans.

A planner is a pure function from facts to a list of Actions. Check mode
reports the list; apply runs the very same list, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.iamguard.aws.plugins.module_utils.client import call


@dataclass(frozen=True)
class Action:
    """One step of a plan.

    ``action`` is the boto3 IAM method name (snake_case) unless a handler given
    to ``apply`` owns it (local steps such as writing a secret file).
    ``target`` names the thing acted on, for people. ``params`` are the call's
    parameters; they never hold a secret, so a plan is always safe to show.
    """

    action: str
    target: str
    params: dict = field(default_factory=dict, compare=True, hash=False)

    def report(self):
        return {"action": self.action, "target": self.target}


def report(actions):
    return [action.report() for action in actions]


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
