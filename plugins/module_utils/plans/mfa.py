# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plans of MFA devices (pure): a device's removal, and the enrolment of a virtual device.

Facts in, ordered Actions out; no client here.
"""

from __future__ import annotations

import time

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action
from ansible_collections.iamguard.aws.plugins.module_utils.tags import (
    TAG_CREATED_AT, TAG_ENROLMENT, TAG_ENROLMENT_USER, TAG_REMOVING_FROM, TAG_REMOVING_SINCE, TWO_STEP, UNATTENDED, VIRTUAL, same_user, tag_time, tag_user,
)


def removal_tags(user_name, now=None):
    """The intent recorded on a virtual device before it is deactivated (TAG_REMOVING_FROM, TAG_REMOVING_SINCE)."""
    since = tag_time(time.time() if now is None else now)
    return [{"Key": TAG_REMOVING_FROM, "Value": tag_user(user_name)}, {"Key": TAG_REMOVING_SINCE, "Value": since}]


def plan_device_removal(device, now=None):
    """Deactivate an assigned device; delete it only if it is virtual. Root's: nothing.

    An assigned virtual device is first tagged with the removal's intent: a run stopped between
    DeactivateMFADevice and DeleteVirtualMFADevice leaves an unassigned device that says whose it was,
    and every later purge, reset or orphan sweep deletes it (one TagMFADevice call per such device).
    """
    if device["root"]:
        return []
    serial = device["serial_number"]
    actions = []
    if device["assigned"] and device["user_name"]:
        if device["type"] == VIRTUAL:
            actions.append(Action("tag_mfa_device", serial, {"SerialNumber": serial, "Tags": removal_tags(device["user_name"], now)}))
        actions.append(Action("deactivate_mfa_device", serial, {"UserName": device["user_name"], "SerialNumber": serial}))
    if device["type"] == VIRTUAL:
        actions.append(Action("delete_virtual_mfa_device", serial, {"SerialNumber": serial}))
    return actions


def plan_devices_removal(devices):
    return [action for device in devices for action in plan_device_removal(device)]


def device_after(device, actions):
    """The facts the removal plan leads to (for --diff): None when deleted."""
    kinds = {action.action for action in actions}
    if "delete_virtual_mfa_device" in kinds:
        return None
    if "deactivate_mfa_device" in kinds:
        return dict(device, assigned=False, user_name=None, enable_date=None)
    return device


def new_serial(identity, path, name):
    """The serial IAM gives a new virtual device: arn:<partition>:iam::<account>:mfa<path><name>."""
    return "arn:%s:iam::%s:mfa%s%s" % (identity["Partition"], identity["Account"], path, name)


def creation_tags(request):
    """The caller's tags plus this collection's bookkeeping (when, for whom, which kind of enrolment)."""
    tags = dict(request["tags"] or {})
    tags[TAG_CREATED_AT] = request["created_at"]
    tags[TAG_ENROLMENT] = UNATTENDED if request["generate_codes"] else TWO_STEP
    if request["user_name"]:
        tags[TAG_ENROLMENT_USER] = tag_user(request["user_name"])
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def plan_enrolment(request, existing, secret_on_hand):
    """The actions that make the virtual device ``request`` describes present.

    ``request``: dict with user_name (or None), name, path, serial (predicted
    serial of a new device), tags, created_at (TAG_TIME_FORMAT), codes_given,
    generate_codes, replace_orphan, destinations (list of (action, path) for
    secret files) and return_secret.
    ``existing``: the described virtual device of that name, or None.
    ``secret_on_hand``: secret files of an earlier run exist and are bound to ``existing`` (two-step enrolment).
    Raises IamGuardError when the request cannot be met safely.
    """
    user_name = request["user_name"]
    if existing and existing["root"]:
        raise IamGuardError("%s is the root user's MFA device; this collection never changes it." % existing["serial_number"])
    if existing and existing["assigned"]:
        if user_name and not same_user(existing["user_name"], user_name):
            raise IamGuardError(
                "Virtual MFA device %s is already enabled for user %s, not %s; choose another name."
                % (existing["serial_number"], existing["user_name"], user_name)
            )
        return []
    if existing and request["codes_given"]:
        if not user_name:
            raise IamGuardError("authentication codes were given but no user_name to enable %s for." % existing["serial_number"])
        return [_enable(user_name, existing["serial_number"])]
    if request["codes_given"]:
        raise IamGuardError(
            "authentication codes were given, but no virtual MFA device %s%s exists yet: run once without codes to create it "
            "and receive its QR code or seed, then run again with two consecutive codes from the authenticator." % (request["path"], request["name"])
        )
    if existing and secret_on_hand and not request["generate_codes"]:
        # Run 1 of a two-step enrolment was already done: nothing to change until codes come.
        return []
    actions = []
    if existing:
        # An unassigned device whose secret is nowhere at hand: an orphan (S1).
        if not request["replace_orphan"]:
            raise IamGuardError(
                "Virtual MFA device %s exists but is not enabled for anyone, and its secret cannot be read back (an orphan, e.g. from a "
                "cancelled console enrolment). Set replace_orphan=true to delete and recreate it, or give the two codes of the person who "
                "holds it." % existing["serial_number"]
            )
        actions.append(Action("delete_virtual_mfa_device", existing["serial_number"], {"SerialNumber": existing["serial_number"]}))
    if not request["destinations"] and not request["return_secret"]:
        raise IamGuardError(
            "Creating virtual MFA device %s%s needs somewhere to put its secret, or nobody could ever produce a code for it: "
            "set qr_code_png_path or seed_path (or return_secret with no_log on the task)." % (request["path"], request["name"])
        )
    serial = existing["serial_number"] if existing else request["serial"]
    params = {"VirtualMFADeviceName": request["name"], "Path": request["path"], "Tags": creation_tags(request)}
    actions.append(Action("create_virtual_mfa_device", serial, params))
    # The seed's hash goes on the device before any file is written: a file is the device's secret only if they match.
    actions.append(Action("tag_mfa_device", serial, {"SerialNumber": serial}))
    actions.extend(Action(kind, path) for kind, path in request["destinations"])
    if request["generate_codes"] and user_name:
        actions.append(_enable(user_name, serial))
    return actions


def _enable(user_name, serial):
    return Action("enable_mfa_device", serial, {"UserName": user_name, "SerialNumber": serial})
