# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_mfa_device state=present: the enrolment flow, and its executor (secret binding, secret files, rollback).

The secret lives only in the Enrolment object of one run; secret files are bound to their
device by the hashes in its tags.
"""

from __future__ import annotations

import base64
import os
import time

from ansible_collections.iamguard.aws.plugins.module_utils.apply import apply
from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.devices import VirtualDevices, diff_view, enabled_for, user_devices
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.files import check_destination, write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.paging import iso_date
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import report
from ansible_collections.iamguard.aws.plugins.module_utils.plans.mfa import new_serial, plan_enrolment
from ansible_collections.iamguard.aws.plugins.module_utils.tags import TAG_QR_SHA256, TAG_SEED_SHA256, VIRTUAL, digest, tag_time

TOTP_STEP = 30


def consecutive_codes(seed, now=None):
    """Two consecutive 6-digit TOTP codes of ``seed``: the previous step's and the current one."""
    import pyotp  # pylint: disable=import-outside-toplevel  # optional: device_options checks it is there when generate_codes needs it

    now = time.time() if now is None else now
    totp = pyotp.TOTP(seed, interval=TOTP_STEP)
    return totp.at(now - TOTP_STEP), totp.at(now)


def has_pyotp():
    try:
        import pyotp  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return False
    return True


class Enrolment:
    """Apply-time state of one enrolment: the secret lives only in this object.

    ``handlers`` give apply.apply the steps that need it; ``rollback`` deletes
    the device and then the files this run created if a later step failed, so
    no new orphan and no secret of a dead device is left behind, and never a
    secret whose device may be enabled.
    """

    def __init__(self, write, codes=None, force=False):
        self.write = write
        self.codes = codes
        self.force = force
        self.seed = None
        self.qr_code_png = None
        self.created = None
        self.written = []
        self.may_be_live = False

    @property
    def handlers(self):
        return {
            "create_virtual_mfa_device": self._create,
            "tag_mfa_device": self._bind,
            "write_qr_code_png": self._write_qr,
            "write_seed": self._write_seed,
            "enable_mfa_device": self._enable,
        }

    def _create(self, client, action):
        response = call(client, "create_virtual_mfa_device", "CreateVirtualMFADevice %s" % action.target, **action.params)
        device = response["VirtualMFADevice"]
        self.created = device["SerialNumber"]
        seed = device.get("Base32StringSeed") or b""
        self.seed = seed.decode("ascii") if isinstance(seed, bytes) else seed
        self.qr_code_png = device.get("QRCodePNG") or b""

    def _bind(self, client, action):
        tags = [{"Key": TAG_SEED_SHA256, "Value": digest(self.seed)}, {"Key": TAG_QR_SHA256, "Value": digest(self.qr_code_png)}]
        call(client, "tag_mfa_device", "TagMFADevice %s" % self.created, SerialNumber=self.created, Tags=tags)

    def _write_qr(self, client, action):
        self.written.append(self.write(action.target, self.qr_code_png, "qr_code_png_path", self.force))

    def _write_seed(self, client, action):
        self.written.append(self.write(action.target, self.seed + "\n", "seed_path", self.force))

    def _enable(self, client, action):
        serial = self.created or action.params["SerialNumber"]
        user_name = action.params["UserName"]
        code_1, code_2 = self.codes or consecutive_codes(self.seed)
        try:
            call(client, "enable_mfa_device", "EnableMFADevice %s for %s" % (serial, user_name),
                 UserName=user_name, SerialNumber=serial, AuthenticationCode1=code_1, AuthenticationCode2=code_2)
        except Exception as e:  # pylint: disable=broad-exception-caught  # whatever broke, IAM may have acted
            if self._enabled_after_all(client, user_name, serial):
                return  # the answer was lost (or a retry met EntityAlreadyExists): this device is enabled for this user
            if self.codes and isinstance(e, IamGuardError) and "InvalidAuthenticationCode" in e.message:
                raise IamGuardError(
                    "IAM rejected the two codes for virtual MFA device %s (user %s): give two consecutive 6-digit codes from the "
                    "authenticator app that scanned this device's QR code or seed, and send them promptly (codes older than about a "
                    "minute are refused). The device was left as it was." % (serial, user_name),
                    e.exception,
                )
            raise

    def _enabled_after_all(self, client, user_name, serial):
        """Whether a failed EnableMFADevice took effect; when that cannot be read, the device may be live."""
        try:
            return enabled_for(client, user_name, serial) is not None
        except Exception:  # pylint: disable=broad-exception-caught  # unknown: keep everything, see rollback
            self.may_be_live = True
            return False

    def secret(self):
        """The secret for a no_log result; None unless this run created a device."""
        if not self.created:
            return None
        return {"base32_string_seed": self.seed, "qr_code_png": base64.b64encode(self.qr_code_png).decode("ascii")}

    def rollback(self, client):
        """Undo what this run created; returns a sentence for the error message ('' when nothing was created).

        The device goes first: its secret files are deleted only once it is gone, so a
        device that turns out to be enabled (DeleteConflict) keeps its secret.
        """
        if not self.created:
            return ""
        if self.may_be_live:
            return (
                "EnableMFADevice was sent for %s but whether it took effect could not be read back, so the device and its secret "
                "files were kept: check the user's MFA devices before removing anything." % self.created
            )
        call(client, "delete_virtual_mfa_device", "DeleteVirtualMFADevice %s (rollback)" % self.created, missing_ok=True, SerialNumber=self.created)
        for path in self.written:
            if os.path.lexists(path):
                os.unlink(path)
        return "The device %s created by this run was deleted again, so no orphan is left." % self.created


SECRET_DESTINATIONS = (("write_qr_code_png", "qr_code_png_path"), ("write_seed", "seed_path"))
# What each secret file holds, as the device's tags bind it: (tag, the file's bytes -> the secret).
BINDINGS = {"qr_code_png_path": (TAG_QR_SHA256, lambda data: data), "seed_path": (TAG_SEED_SHA256, lambda data: data.strip())}


def bound_files(options, tags):
    """Split the existing secret files into those bound to the device (their hash is in its tags) and the stale rest."""
    bound, stale = [], []
    for dummy, option in SECRET_DESTINATIONS:
        path = options[option]
        if not path or not os.path.isfile(path):
            continue
        tag, secret_of = BINDINGS[option]
        with open(path, "rb") as handle:
            data = handle.read()
        (bound if tags.get(tag) == digest(secret_of(data)) else stale).append(option)
    return bound, stale


def ensure_present(client, options, check_mode, caller_identity):
    """Make the virtual device present (and enabled for user_name when codes allow).

    ``caller_identity()`` returns GetCallerIdentity plus Partition; it is only called
    when a new device's serial must be predicted. Returns the module result.
    """
    user_name = options["user_name"]
    name = options["name"] or user_name
    path = options["path"]
    virtual = VirtualDevices(client)
    if user_name and user_devices(client, user_name, virtual) is None:
        raise IamGuardError("IAM user %s does not exist; nothing was changed." % user_name)
    existing = virtual.find_by_name(path, name)
    destinations = [(kind, options[option]) for kind, option in SECRET_DESTINATIONS if options[option]]
    request = {
        "user_name": user_name,
        "name": name,
        "path": path,
        "serial": existing["serial_number"] if existing else new_serial(caller_identity(), path, name),
        "tags": options["tags"],
        "created_at": tag_time(time.time()),
        "codes_given": options["codes"] is not None,
        "generate_codes": options["generate_codes"],
        "replace_orphan": options["replace_orphan"],
        "destinations": destinations,
        "return_secret": options["return_secret"],
    }
    bound, stale = [], []
    if existing and not existing["assigned"] and not request["codes_given"]:
        bound, stale = bound_files(options, virtual.tags_of(existing["serial_number"]))
    if stale and not options["force"]:
        raise IamGuardError(
            "%s holds a secret that is not the one of virtual MFA device %s (the device was created again since, or not by this "
            "collection), so it would hand out a QR code or seed that produces no valid code. Set force=true to replace the device "
            "and the file. Nothing was changed." % (" and ".join(options[option] for option in stale), existing["serial_number"])
        )
    actions = plan_enrolment(request, existing, secret_on_hand=bool(bound) and not stale)
    kinds = [action.action for action in actions]
    for kind, option in SECRET_DESTINATIONS:
        if kind in kinds:
            check_destination(options[option], option, options["force"])
    enabled = "enable_mfa_device" in kinds or bool(existing and existing["assigned"])
    after = {
        "serial_number": request["serial"],
        "type": VIRTUAL,
        "user_name": (existing or {}).get("user_name") or (user_name if enabled else None),
        "enable_date": existing["enable_date"] if existing and existing["assigned"] else None,
        "assigned": enabled,
        "root": False,
    }
    result = {
        "changed": bool(actions),
        "actions": report(actions),
        "replaced_orphan": "delete_virtual_mfa_device" in kinds,
        "device": after,
        "diff": {"before": diff_view(existing), "after": diff_view(after)},
    }
    if check_mode or not actions:
        return result
    enrolment = Enrolment(write_private_file, codes=options["codes"], force=options["force"])
    try:
        apply(client, actions, enrolment.handlers)
    except Exception as e:  # pylint: disable=broad-exception-caught  # any failure: undo what is safe to undo, then report
        raise _with_rollback(e, enrolment, client) from e
    if "enable_mfa_device" in kinds:
        enabled_now = enabled_for(client, user_name, after["serial_number"])
        after["enable_date"] = iso_date(enabled_now.get("EnableDate")) if enabled_now else None
    if options["return_secret"]:
        result["secret"] = enrolment.secret()
    return result


def _with_rollback(error, enrolment, client):
    """``error`` as an IamGuardError whose message also says what became of the device this run created."""
    if not isinstance(error, IamGuardError):
        error = IamGuardError("The enrolment stopped on an unexpected error (%s: %s)." % (type(error).__name__, error))
    try:
        note = enrolment.rollback(client)
    except Exception as rollback_error:  # pylint: disable=broad-exception-caught
        note = "Removing what this run created failed too (%s): the secret files were kept; delete device %s by hand once it is " \
               "certain nobody uses it." % (rollback_error, enrolment.created)
    if note:
        error.message += " " + note
    return error
