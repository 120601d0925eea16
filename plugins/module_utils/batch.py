# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One purge run over many users: a bounded pool, per-user isolation, DeleteConflict re-plans.

Every user of the run shares one client, one read of the virtual-device list and
the caller. Whatever goes wrong for one user is that user's result; the others go on.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.devices import VirtualDevices
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, is_conflict, with_mfa_hint
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.guards import guard
from ansible_collections.iamguard.aws.plugins.module_utils.manifest import manifest_document, manifest_path, manifest_serials, to_json
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import report
from ansible_collections.iamguard.aws.plugins.module_utils.plans.mfa import plan_devices_removal
from ansible_collections.iamguard.aws.plugins.module_utils.plans.user import facts_after, plan_user, summarize
from ansible_collections.iamguard.aws.plugins.module_utils.sources import per_user
from ansible_collections.iamguard.aws.plugins.module_utils.sources.per_user import gone_user_facts, leftover_devices


class Batch:
    """What every user of one module run shares: one client, one virtual-device read, the caller, the inventory source."""

    def __init__(self, client, options, check_mode, caller, lacks_mfa=lambda: False, source=per_user, parallel_reads=False):
        self.client = client
        self.source = source  # sources/: per_user, or an account-wide snapshot
        self.parallel_reads = parallel_reads  # each user's reads at once (a batch with fewer users than workers)
        self.options = options
        self.check_mode = check_mode
        self.caller = caller
        self.virtual = VirtualDevices(client)
        self._lacks_mfa = lacks_mfa
        self._lacks_mfa_answer = []
        self._lock = threading.Lock()

    def lacks_mfa(self):
        """Whether the session carries no MFA, worked out once per run, on the first MFA-gated denial."""
        with self._lock:
            if not self._lacks_mfa_answer:
                self._lacks_mfa_answer.append(self._lacks_mfa())
            return self._lacks_mfa_answer[0]

    def plan(self, facts):
        return plan_user(facts, self.options["state"], self.options["access_key_action"], self.options["remove_permissions"])

    def process(self, target):
        """The result of one user. Never raises: a failure is that user's result."""
        result = {"requested": target["requested"], "user_name": target.get("user_name"), "user_id": target.get("user_id"),
                  "arn": None, "status": None, "actions": [], "manifest": None, "error": None, "warnings": [], "diff": None}
        reason = guard(target.get("user_name"), target.get("user_id"), self.caller, self.options["protected_users"])
        if reason:
            return _protected(result, reason)
        if target.get("user_name") is None:
            return dict(result, status="absent")
        try:
            self._purge(target["user_name"], result)
        except IamGuardError as e:
            result.update(status="failed", error=with_mfa_hint(e, self.lacks_mfa).message)
        except Exception as e:  # pylint: disable=broad-exception-caught
            # Whatever went wrong is this user's failure: the results of the users
            # already done (and deleted) must still be reported.
            result.update(status="failed", error="unexpected error while purging %s: %s: %s" % (target["requested"], type(e).__name__, e))
        return result

    def _purge(self, user_name, result):
        detailed = bool(self.options["manifest_dir"]) and not self.check_mode
        known = manifest_serials(self.options["manifest_dir"], self.caller["account"], user_name)
        facts = self.source.inventory(self.client, user_name, self.virtual, detailed, known, self.parallel_reads)
        if facts is None:
            # Gone already, maybe deleted by a run that stopped before deleting its virtual device.
            facts = gone_user_facts(user_name, leftover_devices(self.virtual, user_name, known))
            actions = plan_devices_removal(facts["mfa_devices"])
            result["status"] = "absent"
        else:
            user_name = facts["user"]["user_name"]  # as IAM spells it
            result.update(user_name=user_name, user_id=facts["user"]["user_id"], arn=facts["user"]["arn"])
            # Again with IAM's own name and id: a target given by id, or spelt in another case, is guarded too.
            reason = guard(user_name, facts["user"]["user_id"], self.caller, self.options["protected_users"])
            if reason:
                _protected(result, reason)
                return
            actions = self.plan(facts)
            result["diff"] = {"before": summarize(facts), "after": summarize(facts_after(facts, actions))}
            result["status"] = "deleted" if self.options["state"] == "absent" else "disabled"
        result["warnings"] += facts.pop("warnings")
        result["actions"] = report(actions)
        if self.check_mode or not actions:
            return
        manifest = None
        if self.options["manifest_dir"]:
            manifest = {"path": manifest_path(self.options["manifest_dir"], self.caller["account"], user_name),
                        "document": manifest_document(facts, actions, self.caller)}
            result["manifest"] = write_private_file(manifest["path"], to_json(manifest["document"]), "manifest_dir")
        self._apply(user_name, actions, result, manifest, known)

    def _apply(self, user_name, actions, result, manifest, known_serials):
        """Apply; on DeleteConflict (a dependent appeared) inventory and plan again, bounded."""
        retries = self.options["max_conflict_retries"]
        for attempt in range(retries + 1):
            try:
                apply(self.client, actions)
                return
            except IamGuardError as e:
                if not is_conflict(e.exception) or attempt == retries:
                    if is_conflict(e.exception):
                        e.message += " (still in conflict after %d re-inventories: something keeps adding dependents to %s)" % (retries, user_name)
                    raise
            # Per user, whatever the source: a credential the account-wide reads missed shows here.
            # A fresh virtual-device read: a device enabled meanwhile must be typed (and deleted) as virtual.
            facts = per_user.inventory(self.client, user_name, VirtualDevices(self.client), detailed=bool(manifest), known_serials=known_serials)
            if facts is None:
                return
            facts.pop("warnings")
            actions = self.plan(facts)
            result["actions"] += report(action for action in actions if action.action != "delete_user")
            if manifest:
                # Every removed dependent is in a manifest written before its removal: the first
                # inventory stays, what appeared since is added.
                manifest["document"].setdefault("appeared_during_run", []).append(manifest_document(facts, actions, self.caller))
                write_private_file(manifest["path"], to_json(manifest["document"]), "manifest_dir", force=True)


def _protected(result, reason):
    result.update(status="protected", error=reason)
    result["warnings"].append("%s was not touched: %s" % (result["requested"], reason))
    return result


def missing_users(users, account):
    """The names given that match no user (status absent, nothing done), and a warning naming each: a typo must stand out."""
    missing = [user["requested"] for user in users if user["status"] == "absent" and not user["actions"]]
    return missing, ["%s: no IAM user of this name (or id) in account %s; nothing was done for it" % (name, account) for name in missing]


def run_batch(batch, targets, max_workers):
    """Each target's result, in the order given, from at most ``max_workers`` threads."""
    with ThreadPoolExecutor(max_workers=min(max_workers, len(targets))) as pool:
        return list(pool.map(batch.process, targets))
