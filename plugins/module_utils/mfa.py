# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MFA devices: listing and typing, and the enrolment and removal plans.

No IAM API returns a device's type. A device is virtual when its serial is in
ListVirtualMFADevices (read once per run, account-wide); a ``:u2f/`` serial
is a passkey or security key; anything else is a hardware TOTP token. An
``arn:...:mfa/...`` serial proves nothing: console-registered hardware tokens
get such serials too.
"""

from __future__ import annotations

import base64
import os
import threading
import time

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.client import IamGuardError, call, iso_date, read
from ansible_collections.iamguard.aws.plugins.module_utils.files import check_destination, write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.plan import Action, apply, report

VIRTUAL = "virtual"
HARDWARE = "hardware"
PASSKEY = "passkey"
ROOT_DEVICE_NAME = "root-account-mfa-device"
TOTP_STEP = 30


def same_user(name_a, name_b):
    """IAM user names are unique regardless of case."""
    return (name_a or "").lower() == (name_b or "").lower()


def device_name(serial):
    """The last segment of a virtual device's serial (arn:...:mfa/<path>/<name>)."""
    return serial.rsplit("/", 1)[-1]


def device_type(serial, virtual_serials):
    if serial in virtual_serials:
        return VIRTUAL
    if ":u2f/" in serial:
        return PASSKEY
    return HARDWARE


def is_root_device(raw):
    """Root's device: its User.Arn ends with ':root' (or, unassigned, its well-known name)."""
    user_arn = (raw.get("User") or {}).get("Arn", "")
    return user_arn.endswith(":root") or raw.get("SerialNumber", "").endswith(":mfa/" + ROOT_DEVICE_NAME)


def describe_virtual(raw):
    """A ListVirtualMFADevices entry as the collection returns devices."""
    user = raw.get("User") or {}
    return {
        "serial_number": raw["SerialNumber"],
        "type": VIRTUAL,
        "user_name": None if is_root_device(raw) else user.get("UserName"),
        "enable_date": iso_date(raw.get("EnableDate")),
        "assigned": bool(raw.get("EnableDate") or user),
        "root": is_root_device(raw),
    }


def describe_user_device(raw, user_name, virtual_serials):
    """A ListMFADevices entry (always assigned, to ``user_name``)."""
    return {
        "serial_number": raw["SerialNumber"],
        "type": device_type(raw["SerialNumber"], virtual_serials),
        "user_name": user_name,
        "enable_date": iso_date(raw.get("EnableDate")),
        "assigned": True,
        "root": False,
    }


class VirtualDevices:
    """The account's virtual devices, read at most once per run, on first use.

    Thread-safe, so a pool purging many users shares one read.
    """

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()
        self._by_serial = None

    @property
    def by_serial(self):
        with self._lock:
            if self._by_serial is None:
                raw = read(self._client, "list_virtual_mfa_devices", "VirtualMFADevices", "ListVirtualMFADevices", AssignmentStatus="Any")
                self._by_serial = {device["SerialNumber"]: device for device in raw}
            return self._by_serial

    def get(self, serial):
        raw = self.by_serial.get(serial)
        return describe_virtual(raw) if raw else None

    def find_by_name(self, path, name):
        suffix = ":mfa%s%s" % (path, name)
        for serial, raw in self.by_serial.items():
            if serial.endswith(suffix):
                return describe_virtual(raw)
        return None

    def described(self):
        return [describe_virtual(raw) for raw in sorted(self.by_serial.values(), key=lambda raw: raw["SerialNumber"])]

    def unassigned(self):
        """Virtual devices enabled for nobody; root's device is never among them."""
        return [device for device in self.described() if not device["assigned"] and not device["root"]]

    def orphans(self):
        """Unassigned virtual devices (S1)."""
        return self.unassigned()

    def unassigned_of(self, user_name):
        """Unassigned virtual devices that belong to ``user_name``: named after the user, the default of the
        console and of this collection. A deactivation whose DeleteVirtualMFADevice never ran leaves one."""
        return [device for device in self.unassigned() if same_user(device_name(device["serial_number"]), user_name)]


def user_devices(client, user_name, virtual):
    """Typed devices of one user, or None when the user does not exist.

    The account-wide virtual list is only read when the user has a device.
    """
    raw = read(client, "list_mfa_devices", "MFADevices", "ListMFADevices for %s" % user_name, missing_ok=True, UserName=user_name)
    if raw is None:
        return None
    serials = virtual.by_serial if raw else {}
    return [describe_user_device(device, user_name, serials) for device in raw]


def plan_device_removal(device):
    """Deactivate an assigned device; delete it only if it is virtual. Root's: nothing."""
    if device["root"]:
        return []
    serial = device["serial_number"]
    actions = []
    if device["assigned"] and device["user_name"]:
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


# --- enrolment -------------------------------------------------------------


def _new_serial(identity, path, name):
    """The serial IAM gives a new virtual device: arn:<partition>:iam::<account>:mfa<path><name>."""
    return "arn:%s:iam::%s:mfa%s%s" % (identity["Partition"], identity["Account"], path, name)


def plan_enrolment(request, existing, secret_on_hand):
    """The actions that make the virtual device ``request`` describes present.

    ``request``: dict with user_name (or None), name, path, serial (predicted
    serial of a new device), tags, codes_given, generate_codes, replace_orphan,
    destinations (list of (action, path) for secret files) and return_secret.
    ``existing``: the described virtual device of that name, or None.
    ``secret_on_hand``: a secret file of an earlier run exists (two-step enrolment).
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
    params = {"VirtualMFADeviceName": request["name"], "Path": request["path"]}
    if request["tags"]:
        params["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(request["tags"].items())]
    actions.append(Action("create_virtual_mfa_device", serial, params))
    actions.extend(Action(kind, path) for kind, path in request["destinations"])
    if request["generate_codes"] and user_name:
        actions.append(_enable(user_name, serial))
    return actions


def _enable(user_name, serial):
    return Action("enable_mfa_device", serial, {"UserName": user_name, "SerialNumber": serial})


def consecutive_codes(seed, now=None):
    """Two consecutive 6-digit TOTP codes of ``seed``: the previous step's and the current one."""
    import pyotp  # imported late: only enrolment with generate_codes needs it

    now = time.time() if now is None else now
    totp = pyotp.TOTP(seed, interval=TOTP_STEP)
    return totp.at(now - TOTP_STEP), totp.at(now)


class Enrolment:
    """Apply-time state of one enrolment: the secret lives only in this object.

    ``handlers`` give plan.apply the steps that need it; ``rollback`` deletes
    the device and the files this run created if a later step failed, so no
    new orphan and no secret of a dead device is left behind.
    """

    def __init__(self, write, codes=None, force=False):
        self.write = write
        self.codes = codes
        self.force = force
        self.seed = None
        self.qr_code_png = None
        self.created = None
        self.written = []

    @property
    def handlers(self):
        return {
            "create_virtual_mfa_device": self._create,
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
        self.qr_code_png = device.get("QRCodePNG")

    def _write_qr(self, client, action):
        self.written.append(self.write(action.target, self.qr_code_png, "qr_code_png_path", self.force))

    def _write_seed(self, client, action):
        self.written.append(self.write(action.target, self.seed + "\n", "seed_path", self.force))

    def _enable(self, client, action):
        serial = self.created or action.params["SerialNumber"]
        code_1, code_2 = self.codes or consecutive_codes(self.seed)
        try:
            call(
                client, "enable_mfa_device", "EnableMFADevice %s for %s" % (serial, action.params["UserName"]),
                UserName=action.params["UserName"], SerialNumber=serial, AuthenticationCode1=code_1, AuthenticationCode2=code_2,
            )
        except IamGuardError as e:
            if self.codes and "InvalidAuthenticationCode" in e.message:
                raise IamGuardError(
                    "IAM rejected the two codes for virtual MFA device %s (user %s): give two consecutive 6-digit codes from the "
                    "authenticator app that scanned this device's QR code or seed, and send them promptly (codes older than about a "
                    "minute are refused). The device was left as it was." % (serial, action.params["UserName"]),
                    e.exception,
                )
            raise

    def secret(self):
        """The secret for a no_log result; None unless this run created a device."""
        if not self.created:
            return None
        return {"base32_string_seed": self.seed, "qr_code_png": base64.b64encode(self.qr_code_png or b"").decode("ascii")}

    def rollback(self, client):
        """Delete what this run created; returns the device serial or None."""
        for path in self.written:
            if os.path.lexists(path):
                os.unlink(path)
        if not self.created:
            return None
        call(client, "delete_virtual_mfa_device", "DeleteVirtualMFADevice %s (rollback)" % self.created, missing_ok=True, SerialNumber=self.created)
        return self.created


# --- the two module flows ----------------------------------------------------

SECRET_DESTINATIONS = (("write_qr_code_png", "qr_code_png_path"), ("write_seed", "seed_path"))


def device_options(params, task_no_log):
    """Validated iam_mfa_device options, or InvalidInput before any AWS call."""
    options = dict(params)
    if options["user_name"] is not None:
        validation.user_name(options["user_name"])
    if options["name"] is not None:
        validation.device_name(options["name"])
    validation.path(options["path"])
    if options["serial_number"] is not None:
        validation.serial_number(options["serial_number"])
    options["codes"] = validation.authentication_codes(options.pop("authentication_code_1"), options.pop("authentication_code_2"))
    if options["state"] == "present":
        if options["serial_number"] is not None:
            raise validation.InvalidInput("serial_number", options["serial_number"], "state=present creates virtual devices by user_name/name and path, "
                                          "so serial_number is only for state=absent")
        if options["return_secret"] and not task_no_log:
            raise validation.InvalidInput("return_secret", True, "the seed and QR code may only be returned to a task with no_log: true")
        if options["generate_codes"] and not options["user_name"]:
            raise validation.InvalidInput("generate_codes", True, "generated codes enable the device for user_name, which is missing")
    return options


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
        "serial": existing["serial_number"] if existing else _new_serial(caller_identity(), path, name),
        "tags": options["tags"],
        "codes_given": options["codes"] is not None,
        "generate_codes": options["generate_codes"],
        "replace_orphan": options["replace_orphan"],
        "destinations": destinations,
        "return_secret": options["return_secret"],
    }
    actions = plan_enrolment(request, existing, secret_on_hand=any(os.path.isfile(dest) for dummy, dest in destinations))
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
        "diff": {"before": _diff_view(existing), "after": _diff_view(after)},
    }
    if check_mode or not actions:
        return result
    enrolment = Enrolment(write_private_file, codes=options["codes"], force=options["force"])
    try:
        apply(client, actions, enrolment.handlers)
    except IamGuardError as e:
        try:
            rolled_back = enrolment.rollback(client)
        except (IamGuardError, OSError) as rollback_error:
            e.message += " Removing what this run created failed too (%s): delete device %s by hand." % (rollback_error, enrolment.created)
        else:
            if rolled_back:
                e.message += " The device %s created by this run was deleted again, so no orphan is left." % rolled_back
        raise
    if "enable_mfa_device" in kinds:
        enabled_now = [d for d in user_devices(client, user_name, virtual) or [] if d["serial_number"] == after["serial_number"]]
        after["enable_date"] = enabled_now[0]["enable_date"] if enabled_now else None
    if options["return_secret"]:
        result["secret"] = enrolment.secret()
    return result


def ensure_absent(client, options, check_mode):
    """Deactivate, and delete if virtual, the device(s) the options name."""
    virtual = VirtualDevices(client)
    user_name = options["user_name"]
    serial = options["serial_number"]
    warnings = []
    if serial:
        device = virtual.get(serial)
        if device is None and user_name:
            device = next((d for d in user_devices(client, user_name, virtual) or [] if d["serial_number"] == serial), None)
        if device is None and not user_name:
            warnings.append(
                "%s is not a virtual MFA device of this account. If it is a hardware token or passkey, give user_name "
                "so it can be found and deactivated." % serial
            )
        devices = [device] if device else []
    elif options["name"]:
        devices = [d for d in [virtual.find_by_name(options["path"], options["name"])] if d]
    else:
        devices = user_devices(client, user_name, virtual)
        if devices is None:
            warnings.append("IAM user %s does not exist; there is no device to remove." % user_name)
            devices = []
    for device in devices:
        if device["root"]:
            raise IamGuardError("%s is the root user's MFA device; this collection never changes it." % device["serial_number"])
        if user_name and device["assigned"] and not same_user(device["user_name"], user_name):
            raise IamGuardError(
                "MFA device %s is enabled for user %s, not %s; nothing was changed." % (device["serial_number"], device["user_name"], user_name)
            )
    plans = [(device, plan_device_removal(device)) for device in devices]
    actions = [action for dummy, plan in plans for action in plan]
    result = {
        "changed": bool(actions),
        "actions": report(actions),
        "devices": devices,
        "warnings": warnings,
        "diff": {
            "before": {"devices": [_diff_view(device) for device in devices]},
            "after": {"devices": [_diff_view(after) for after in (device_after(device, plan) for device, plan in plans) if after]},
        },
    }
    if not check_mode:
        apply(client, actions)
    return result


def _diff_view(device):
    if not device:
        return {}
    return {key: device[key] for key in ("serial_number", "type", "user_name", "assigned")}


def device_inventory(client, user_names, assignment_status):
    """Every virtual device (one account-wide read), orphans, and the typed devices of ``user_names``."""
    for name in user_names:
        validation.user_name(name, "user_names")
    virtual = VirtualDevices(client)
    devices = virtual.described()
    wanted = {"Any": lambda d: True, "Assigned": lambda d: d["assigned"], "Unassigned": lambda d: not d["assigned"]}[assignment_status]
    result = {
        "changed": False,
        "virtual_devices": [d for d in devices if wanted(d)],
        "orphans": virtual.orphans(),
        "users": {},
        "warnings": [],
    }
    for name in user_names:
        found = user_devices(client, name, virtual)
        if found is None:
            result["warnings"].append("IAM user %s does not exist." % name)
        result["users"][name] = found or []
    result["summary"] = {
        "virtual": len(devices),
        "virtual_assigned": sum(1 for d in devices if d["assigned"]),
        "orphans": len(result["orphans"]),
    }
    return result
