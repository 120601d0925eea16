# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The orphan sweep of one account (iam_mfa_orphans): list, choose, then delete only what is still an orphan.

One paginated ListVirtualMFADevices and one ListMFADeviceTags per unassigned device tell which
devices are orphans, how old (tag iamguard:created-at) and which wait for a person's codes
(pending enrolments, never deleted). The chosen ones are deleted with DeleteVirtualMFADevice
alone, never DeactivateMFADevice: IAM refuses to delete a device enabled for someone
(DeleteConflict), so a device a person enabled since the list is left to her. Right before each
deletion the device's tags are read again: a device that changed since the list (a person's
enrolment re-created it, or made it a pending enrolment) is skipped.
"""

from __future__ import annotations

import re

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.devices import VirtualDevices
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, is_conflict, is_missing
from ansible_collections.iamguard.aws.plugins.module_utils.paging import read
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action, report
from ansible_collections.iamguard.aws.plugins.module_utils.tags import TAG_CREATED_AT, enrolment_facts

# Why a device is deleted, kept or skipped (the "reason" of each listed device).
ORPHAN = "orphan"  # matches the patterns, old enough
UNDATED = "unknown_age"  # matches, no creation tag: deleted with include_unknown_age, else kept
REMOVAL_INTENT = "removal_intent"  # tagged by a removal that stopped after deactivating it: deleted whatever the patterns and age
TOO_YOUNG = "too_young"
PENDING = "pending_enrolment"
ASSIGNED_MEANWHILE = "assigned_meanwhile"  # DeleteConflict: enabled for someone since the list
GONE = "gone"  # NoSuchEntity: deleted by someone else since the list
RECREATED = "recreated_meanwhile"  # its creation tag changed: a new device of the same name
PENDING_MEANWHILE = "pending_enrolment_meanwhile"
CHANGED = "tags_changed_meanwhile"


def shell_regex(pattern, spans_folders):
    """A shell pattern (* and ?, nothing else special) as a regular expression; * and ? cross '/' only when ``spans_folders``."""
    wild = {"*": ".*" if spans_folders else "[^/]*", "?": "." if spans_folders else "[^/]"}
    return "".join(wild.get(char, re.escape(char)) for char in pattern)


def _patterns(value, option, rule_ok, rule):
    if not value or not all(isinstance(item, str) and item for item in value):
        raise validation.InvalidInput(option, value, "give a non-empty list of shell patterns")
    for item in value:
        if not rule_ok(item):
            raise validation.InvalidInput(option, item, rule)
    return list(value)


def sweep_options(params):
    """Validated options, or InvalidInput before any AWS call."""
    options = dict(params)
    options["name_patterns"] = _patterns(params["name_patterns"], "name_patterns", lambda p: "/" not in p,
                                         "a name pattern matches the device name, which holds no '/'")
    options["path_patterns"] = _patterns(params["path_patterns"], "path_patterns", lambda p: p[0] in "/*",
                                         "a path pattern starts with '/' (or '*'), as IAM paths do")
    if params["min_age_minutes"] < 0:
        raise validation.InvalidInput("min_age_minutes", params["min_age_minutes"], "a whole number of minutes, 0 or more")
    options["path_regex"] = _any_of(options["path_patterns"], spans_folders=True)
    options["name_regex"] = _any_of(options["name_patterns"], spans_folders=False)
    return options


def _any_of(patterns, spans_folders):
    # Case-insensitive, as the playbook's matching always was.
    return re.compile("|".join(shell_regex(pattern, spans_folders) for pattern in patterns), re.IGNORECASE | re.DOTALL)


def path_and_name(serial):
    """'/team/' and 'bob' of arn:...:mfa/team/bob: the path runs to the last '/'."""
    rest = serial.split(":mfa", 1)[-1]
    cut = rest.rindex("/") + 1
    return rest[:cut], rest[cut:]


def matches(options, serial):
    path, name = path_and_name(serial)
    return bool(options["path_regex"].fullmatch(path) and options["name_regex"].fullmatch(name))


def _reason(device, options):
    """Why the sweep deletes or keeps an unassigned device; None when it matches no pattern and carries no removal intent."""
    if device["removing_from"] and not device["pending_enrolment"]:
        return REMOVAL_INTENT
    if not matches(options, device["serial_number"]):
        return None
    if device["pending_enrolment"]:
        return PENDING
    if device["age_minutes"] is None:
        return UNDATED
    return TOO_YOUNG if device["age_minutes"] < options["min_age_minutes"] else ORPHAN


def choose(devices, options):
    """(chosen, kept): the unassigned devices the sweep deletes and those it keeps, each with its reason."""
    deleted_for = (ORPHAN, REMOVAL_INTENT, UNDATED) if options["include_unknown_age"] else (ORPHAN, REMOVAL_INTENT)
    chosen, kept = [], []
    for device in devices:
        reason = _reason(device, options)
        if reason is not None:
            (chosen if reason in deleted_for else kept).append(dict(device, reason=reason))
    return chosen, kept


def plan_sweep(chosen):
    """DeleteVirtualMFADevice alone, one per chosen device: never a deactivation."""
    return [Action("delete_virtual_mfa_device", device["serial_number"], {"SerialNumber": device["serial_number"]}) for device in chosen]


def still_orphan(listed_tags, tags):
    """None when the device is as it was listed (its tags read again, ``tags``), else the reason to skip it."""
    if tags is None:
        return GONE
    if tags.get(TAG_CREATED_AT) != listed_tags.get(TAG_CREATED_AT):
        return RECREATED
    if enrolment_facts(tags)["pending_enrolment"]:
        return PENDING_MEANWHILE
    return None if tags == listed_tags else CHANGED


class Deletion:
    """The one step of the sweep's plan: read the tags again, then DeleteVirtualMFADevice; outcomes in ``deleted`` and ``changed_meanwhile``."""

    def __init__(self, virtual, chosen):
        self.virtual = virtual
        self.chosen = {device["serial_number"]: device for device in chosen}
        self.deleted = []
        self.changed_meanwhile = []

    def __call__(self, client, action):
        serial = action.target
        device = self.chosen[serial]
        tags = read(client, "list_mfa_device_tags", "Tags", "ListMFADeviceTags %s" % serial, missing_ok=True, SerialNumber=serial)
        reason = still_orphan(self.virtual.tags_of(serial), None if tags is None else {tag["Key"]: tag["Value"] for tag in tags})
        if reason is None:
            try:
                call(client, "delete_virtual_mfa_device", "DeleteVirtualMFADevice %s" % serial, **action.params)
            except IamGuardError as e:
                if not (is_conflict(e.exception) or is_missing(e.exception)):
                    raise
                reason = ASSIGNED_MEANWHILE if is_conflict(e.exception) else GONE
        if reason is None:
            self.deleted.append(device)
        else:
            self.changed_meanwhile.append(dict(device, reason=reason))


def sweep(client, params, check_mode):
    """iam_mfa_orphans: the account's orphans chosen by the options, deleted (or, in check mode, planned)."""
    options = sweep_options(params)
    virtual = VirtualDevices(client)
    unassigned = virtual.unassigned()
    chosen, kept = choose(unassigned, options)
    actions = plan_sweep(chosen)
    deletion = Deletion(virtual, chosen)
    if not check_mode:
        apply(client, actions, {"delete_virtual_mfa_device": deletion})
    deleted = chosen if check_mode else deletion.deleted
    return {
        "changed": bool(deleted),
        "actions": report(actions),
        "deleted": deleted,
        "changed_meanwhile": deletion.changed_meanwhile,
        "kept": kept,
        "summary": {"unassigned": len(unassigned), "deleted": len(deleted), "changed_meanwhile": len(deletion.changed_meanwhile), "kept": len(kept)},
        "diff": {"before": {"orphans": [device["serial_number"] for device in chosen]},
                 "after": {"orphans": [device["serial_number"] for device in chosen if device not in deleted]}},
    }
