# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_mfa_device state=absent: which devices a task names, the refusals, and the removal plan.

Read, then write only what is still true: a device is removed only when it is the named
user's (enabled for the user, or unassigned and the user's by name or by this collection's
tags), never the root user's, never one of another account. Every refusal says why and
changes nothing.
"""

from __future__ import annotations

import re

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.devices import VirtualDevices, diff_view, user_devices
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import report
from ansible_collections.iamguard.aws.plugins.module_utils.plans.mfa import device_after, plan_device_removal
from ansible_collections.iamguard.aws.plugins.module_utils.tags import same_user

# arn:<partition>:iam::<account>:<kind>/<rest>; the account part is checked apart, to name it in the refusal.
SERIAL_ARN = re.compile(r"arn:([^:]+):iam::([^:]*):([a-z0-9-]+)/(.+)")
ROOT_NAMES = ("root",)


def check_absent_options(options):
    """The refusals that need no AWS call: root as user_name, '..' in a serial, a serial that cannot be found without user_name."""
    user_name = options["user_name"]
    serial = options["serial_number"]
    if user_name is not None and user_name.lower() in ROOT_NAMES:
        raise validation.InvalidInput("user_name", user_name, "the root user's MFA devices are never removed by iam_mfa_device; remove them "
                                      "with iamguard.aws.iam_root_credentials (credential_types: [mfa_devices])")
    if serial is None:
        return
    if ".." in serial:
        raise validation.InvalidInput("serial_number", serial, "an MFA serial number never holds '..'")
    arn = SERIAL_ARN.fullmatch(serial)
    if serial.startswith("arn:") and (arn is None or not validation.ACCOUNT_ID.fullmatch(arn.group(2))):
        raise validation.InvalidInput("serial_number", serial, "an MFA serial ARN is arn:<partition>:iam::<12-digit account>:mfa/<path><name> "
                                      "(or :u2f/ for a passkey)")
    if user_name is None and (arn is None or arn.group(3) != "mfa"):
        raise validation.InvalidInput("serial_number", serial, "a hardware token or passkey serial is found only through its user: give "
                                      "user_name as well, so it can be deactivated")


def serial_account(serial):
    """The account id in a serial ARN, or None for a vendor serial."""
    arn = SERIAL_ARN.fullmatch(serial)
    return arn.group(2) if arn else None


def _by_serial(client, virtual, options, warnings):
    serial = options["serial_number"]
    user_name = options["user_name"]
    device = virtual.get(serial)
    if device is None and user_name:
        device = next((d for d in user_devices(client, user_name, virtual) or [] if d["serial_number"] == serial), None)
    if device is None and not user_name:
        # An :mfa/ serial missing from the virtual list: deleted already, or a hardware token registered with such a serial.
        warnings.append("%s is not among the account's virtual MFA devices, so nothing was changed: if it was a virtual device it is deleted "
                        "already; if it is a hardware token registered with an arn:...:mfa/ serial, give user_name so it can be found "
                        "and deactivated." % serial)
    return [device] if device else []


def _of_user(client, virtual, user_name, warnings):
    devices = user_devices(client, user_name, virtual)
    if devices is None:
        warnings.append("IAM user %s does not exist; only virtual devices left over for that name can be removed." % user_name)
        devices = []
    listed = {device["serial_number"] for device in devices}
    # A device deactivated by hand or by a stopped run no longer shows through the user: the reset must not leave it.
    return devices + [device for device in virtual.unassigned_of(user_name) if device["serial_number"] not in listed]


def _refuse(virtual, devices, user_name):
    """Every named device must be one this task may remove; else IamGuardError, nothing changed."""
    for device in devices:
        if device["root"]:
            raise IamGuardError("%s is the root user's MFA device; this collection never changes it." % device["serial_number"])
        if not user_name:
            continue
        if device["assigned"] and not same_user(device["user_name"], user_name):
            raise IamGuardError(
                "MFA device %s is enabled for user %s, not %s; nothing was changed." % (device["serial_number"], device["user_name"], user_name)
            )
        if not device["assigned"] and not virtual.belongs_to(device, user_name):
            raise IamGuardError(
                "Virtual MFA device %s is enabled for nobody and was never %s's: it is not named after %s, nor tagged by this collection as "
                "%s's enrolment or as being removed from %s. Nothing was changed. To delete an orphan, use iamguard.aws.iam_mfa_orphans "
                "(or give serial_number without user_name)." % (device["serial_number"], user_name, user_name, user_name, user_name)
            )


def ensure_absent(client, options, check_mode, caller_identity):
    """Deactivate, and delete if virtual, the device(s) the options name.

    ``caller_identity()`` (GetCallerIdentity) is only called for a serial ARN, whose account must be the caller's.
    """
    check_absent_options(options)
    user_name = options["user_name"]
    serial = options["serial_number"]
    account = serial_account(serial) if serial else None
    if account is not None and account != caller_identity()["Account"]:
        raise IamGuardError("MFA device %s belongs to account %s, not to the account these credentials act in; nothing was changed."
                            % (serial, account))
    virtual = VirtualDevices(client)
    warnings = []
    if serial:
        devices = _by_serial(client, virtual, options, warnings)
    elif options["name"]:
        devices = [d for d in [virtual.find_by_name(options["path"], options["name"])] if d]
    else:
        devices = _of_user(client, virtual, user_name, warnings)
    _refuse(virtual, devices, user_name)
    plans = [(device, plan_device_removal(device)) for device in devices]
    actions = [action for dummy, plan in plans for action in plan]
    result = {
        "changed": bool(actions),
        "actions": report(actions),
        "devices": devices,
        "warnings": warnings,
        "diff": {
            "before": {"devices": [diff_view(device) for device in devices]},
            "after": {"devices": [diff_view(after) for after in (device_after(device, plan) for device, plan in plans) if after]},
        },
    }
    if not check_mode:
        apply(client, actions)
    return result
