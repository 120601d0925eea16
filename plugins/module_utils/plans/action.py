# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions: what a plan is made of (pure).

A planner is a pure function from facts to a list of Actions. Check mode
reports the list; apply.py runs the very same list, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
