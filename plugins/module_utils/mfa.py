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
import calendar
import hashlib
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

# Tags iam_mfa_device puts on the virtual devices it creates. Bookkeeping only: a
# SHA-256 of a 160-bit random seed does not help anyone find the seed.
TAG_PREFIX = "iamguard:"
TAG_CREATED_AT = TAG_PREFIX + "created-at"  # UTC, TAG_TIME_FORMAT
TAG_ENROLMENT = TAG_PREFIX + "enrolment"  # TWO_STEP or UNATTENDED
TAG_ENROLMENT_USER = TAG_PREFIX + "enrolment-user"  # the user the device is for, see tag_user
TAG_SEED_SHA256 = TAG_PREFIX + "seed-sha256"  # binds a seed file to the device
TAG_QR_SHA256 = TAG_PREFIX + "qr-sha256"  # binds a QR code file to the device
# Tags this collection puts on a virtual device right before it deactivates it: the removal's intent, recorded
# in AWS, so any later run finishes it (deletes the device) whatever the local manifest folder holds.
TAG_REMOVING_FROM = TAG_PREFIX + "removing-from"  # the user it is being removed from, see tag_user
TAG_REMOVING_SINCE = TAG_PREFIX + "removing-since"  # UTC, TAG_TIME_FORMAT
TWO_STEP = "two-step"
UNATTENDED = "unattended"
TAG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# AWS refuses SigV4 requests signed more than 15 minutes off its clock, so no EnableDate is further off ours.
CLOCK_SKEW_LIMIT = 15 * 60


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


def describe_user_device(raw, user_name, kind):
    """A ListMFADevices entry (always assigned, to ``user_name``) of type ``kind``."""
    return {
        "serial_number": raw["SerialNumber"],
        "type": kind,
        "user_name": user_name,
        "enable_date": iso_date(raw.get("EnableDate")),
        "assigned": True,
        "root": False,
    }


def tag_user(user_name):
    """A user name as a tag value: tag values allow no comma, user names no colon."""
    return user_name.replace(",", ":")


def _untag_user(value):
    return value.replace(":", ",") if value else None


def enrolment_user(tags):
    """The user a device created by this collection was created for, or None."""
    return _untag_user(tags.get(TAG_ENROLMENT_USER))


def removal_user(tags):
    """The user this collection was removing the device from when it tagged it (see TAG_REMOVING_FROM), or None."""
    return _untag_user(tags.get(TAG_REMOVING_FROM))


def tag_time(seconds):
    return time.strftime(TAG_TIME_FORMAT, time.gmtime(seconds))


def _tag_seconds(value):
    try:
        return calendar.timegm(time.strptime(value or "", TAG_TIME_FORMAT))
    except ValueError:
        return None


def enrolment_facts(tags, now=None):
    """What the tags tell of an unassigned device: created when, and whether a two-step enrolment waits on it.

    Pending means step 1 of a person's enrolment got the secret (the seed tag is set right after
    creation): the device waits for the person's codes. Anything else unassigned is an orphan.
    """
    now = time.time() if now is None else now
    created = _tag_seconds(tags.get(TAG_CREATED_AT))
    return {
        "created_at": tag_time(created) if created is not None else None,
        "age_minutes": max(0, int(now - created) // 60) if created is not None else None,
        "pending_enrolment": tags.get(TAG_ENROLMENT) == TWO_STEP and TAG_SEED_SHA256 in tags,
        "removing_from": removal_user(tags),
    }


def digest(data):
    """SHA-256 (hex) of a secret, to bind it to its device without keeping it."""
    return hashlib.sha256(data.encode("ascii") if isinstance(data, str) else data).hexdigest()


class VirtualDevices:
    """The account's virtual devices, read once per run on first use, again on a miss.

    Thread-safe, so a pool purging many users shares one read. A device enabled
    after that read is not in it: ``type_of`` re-reads the list once for such a
    serial before calling it hardware (unless it was enabled before the read began). Tags of unassigned devices (this
    collection's enrolment bookkeeping) are read on demand, once per device.
    """

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()
        self._by_serial = None
        self._read_at = None
        self._reread_for = set()
        self._tags = {}

    def _read(self):
        self._read_at = time.time()
        raw = read(self._client, "list_virtual_mfa_devices", "VirtualMFADevices", "ListVirtualMFADevices", AssignmentStatus="Any")
        return {device["SerialNumber"]: device for device in raw}

    @property
    def by_serial(self):
        with self._lock:
            if self._by_serial is None:
                self._by_serial = self._read()
            return self._by_serial

    def type_of(self, serial, enable_date=None):
        """VIRTUAL, PASSKEY or HARDWARE; a serial missing from the cached list re-reads it once.

        ``enable_date`` (ListMFADevices' datetime): a device enabled well before the list was
        read would be in it if it were virtual, so it needs no re-read.
        """
        kind = device_type(serial, self.by_serial)
        if kind != HARDWARE or _enabled_before(enable_date, self._read_at - CLOCK_SKEW_LIMIT):
            return kind
        with self._lock:
            # Another thread's re-read may have brought it; each missing serial re-reads at most once.
            if serial not in self._by_serial and serial not in self._reread_for:
                self._reread_for.add(serial)
                self._by_serial = self._read()
            return device_type(serial, self._by_serial)

    def tags_of(self, serial):
        """The device's tags as a dict ({} when it is gone meanwhile), read once."""
        with self._lock:
            if serial in self._tags:
                return self._tags[serial]
        tags = read(self._client, "list_mfa_device_tags", "Tags", "ListMFADeviceTags %s" % serial, missing_ok=True, SerialNumber=serial)
        found = {tag["Key"]: tag["Value"] for tag in tags or []}
        with self._lock:
            self._tags[serial] = found
        return found

    def _describe(self, raw):
        device = describe_virtual(raw)
        if not device["assigned"] and not device["root"]:
            device.update(enrolment_facts(self.tags_of(device["serial_number"])))
        return device

    def get(self, serial):
        raw = self.by_serial.get(serial)
        return self._describe(raw) if raw else None

    def find_by_name(self, path, name):
        suffix = ":mfa%s%s" % (path, name)
        for serial, raw in self.by_serial.items():
            if serial.endswith(suffix):
                return self._describe(raw)
        return None

    def assigned_to(self, user_name):
        """Whether the list holds a virtual device enabled for ``user_name``."""
        return any((raw.get("User") or {}).get("UserName") == user_name for raw in self.by_serial.values() if not is_root_device(raw))

    def described(self):
        return [self._describe(raw) for raw in sorted(self.by_serial.values(), key=lambda raw: raw["SerialNumber"])]

    def unassigned(self):
        """Virtual devices enabled for nobody; root's device is never among them."""
        return [device for device in self.described() if not device["assigned"] and not device["root"]]

    def orphans(self):
        """Unassigned virtual devices that no two-step enrolment of this collection waits on (S1)."""
        return [device for device in self.unassigned() if not device["pending_enrolment"]]

    def pending_enrolments(self):
        """Unassigned devices created by step 1 of a two-step enrolment, waiting for the person's codes."""
        return [device for device in self.unassigned() if device["pending_enrolment"]]

    def belongs_to(self, device, user_name):
        """Whether an unassigned virtual device is ``user_name``'s: named after the user (the default of the console and
        of this collection), or tagged by this collection as an enrolment for that user or as being removed from that user."""
        tags = self.tags_of(device["serial_number"])
        return any(same_user(name, user_name) for name in (device_name(device["serial_number"]), enrolment_user(tags), removal_user(tags)))

    def unassigned_of(self, user_name):
        """Unassigned virtual devices that belong to ``user_name`` (see belongs_to). A deactivation whose
        DeleteVirtualMFADevice never ran leaves one; its removal tag names the user whatever the device's name."""
        return [device for device in self.unassigned() if self.belongs_to(device, user_name)]


def _enabled_before(enable_date, seconds):
    return hasattr(enable_date, "timestamp") and enable_date.timestamp() < seconds


def user_devices(client, user_name, virtual):
    """Typed devices of one user, or None when the user does not exist.

    The account-wide virtual list is only read when the user has a device that is no passkey.
    """
    raw = read(client, "list_mfa_devices", "MFADevices", "ListMFADevices for %s" % user_name, missing_ok=True, UserName=user_name)
    if raw is None:
        return None
    return [describe_user_device(device, user_name, virtual.type_of(device["SerialNumber"], device.get("EnableDate"))) for device in raw]


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


# --- enrolment -------------------------------------------------------------


def _new_serial(identity, path, name):
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


def enabled_for(client, user_name, serial):
    """The ListMFADevices entry of ``serial`` for ``user_name``, or None when it is not enabled for that user."""
    raw = read(client, "list_mfa_devices", "MFADevices", "ListMFADevices for %s" % user_name, missing_ok=True, UserName=user_name)
    return next((device for device in raw or [] if device["SerialNumber"] == serial), None)


class Enrolment:
    """Apply-time state of one enrolment: the secret lives only in this object.

    ``handlers`` give plan.apply the steps that need it; ``rollback`` deletes
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


# --- the two module flows ----------------------------------------------------

SECRET_DESTINATIONS = (("write_qr_code_png", "qr_code_png_path"), ("write_seed", "seed_path"))
# What each secret file holds, as the device's tags bind it: (tag, the file's bytes -> the secret).
BINDINGS = {"qr_code_png_path": (TAG_QR_SHA256, lambda data: data), "seed_path": (TAG_SEED_SHA256, lambda data: data.strip())}
PRESENT_ONLY_OPTIONS = ("generate_codes", "qr_code_png_path", "seed_path", "return_secret", "force", "tags")


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
    if options["state"] == "absent":
        _refuse_present_only(options)
        return options
    if options["serial_number"] is not None:
        raise validation.InvalidInput("serial_number", options["serial_number"], "state=present creates virtual devices by user_name/name and path, "
                                      "so serial_number is only for state=absent")
    if options["return_secret"] and not task_no_log:
        raise validation.InvalidInput("return_secret", True, "the seed and QR code may only be returned to a task with no_log: true")
    for key in options["tags"] or {}:
        if str(key).startswith(TAG_PREFIX):
            raise validation.InvalidInput("tags", key, "tag keys starting with %r are this collection's bookkeeping" % TAG_PREFIX)
    _check_destinations(options)
    if options["generate_codes"]:
        if not options["user_name"]:
            raise validation.InvalidInput("generate_codes", True, "generated codes enable the device for user_name, which is missing")
        if not (options["seed_path"] or options["qr_code_png_path"] or options["return_secret"]):
            raise validation.InvalidInput("generate_codes", True, "the new device's secret must be kept somewhere: set seed_path, "
                                          "qr_code_png_path or return_secret, or nobody could ever produce a code for it")
        if not has_pyotp():
            raise IamGuardError("generate_codes needs the Python library pyotp on the host that runs the module (pip install pyotp, "
                                "or requirements.txt of this collection); nothing was changed.")
    return options


def _refuse_present_only(options):
    """state=absent removes devices: an option that only makes sense for enrolment means the task is not what it seems."""
    if options["codes"] is not None:
        raise validation.InvalidInput("authentication_code_1", "******", "state=absent removes devices; codes only enable one (state=present)")
    for option in PRESENT_ONLY_OPTIONS:
        if options[option] not in (None, False):
            raise validation.InvalidInput(option, options[option], "state=absent removes devices; %s only applies to state=present" % option)


def _check_destinations(options):
    """Refuse, before any call, secret paths that can never be written: the same file twice, a FIFO, a device node..."""
    given = [(option, options[option]) for dummy, option in SECRET_DESTINATIONS if options[option]]
    if len(given) == 2 and os.path.realpath(given[0][1]) == os.path.realpath(given[1][1]):
        raise validation.InvalidInput("seed_path", given[1][1], "seed_path and qr_code_png_path must be two different files")
    for option, path in given:
        # force=True: an existing regular file may be a two-step enrolment's own; whether it may be replaced is decided later.
        check_destination(path, option, force=True)


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
        "serial": existing["serial_number"] if existing else _new_serial(caller_identity(), path, name),
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


def diff_view(device):
    if not device:
        return {}
    return {key: device[key] for key in ("serial_number", "type", "user_name", "assigned")}


def device_inventory(client, user_names, assignment_status):
    """Every virtual device (one account-wide read), orphans apart from pending enrolments, and the typed devices of ``user_names``."""
    for name in user_names:
        validation.user_name(name, "user_names")
    virtual = VirtualDevices(client)
    devices = virtual.described()
    wanted = {"Any": lambda d: True, "Assigned": lambda d: d["assigned"], "Unassigned": lambda d: not d["assigned"]}[assignment_status]
    result = {
        "changed": False,
        "virtual_devices": [d for d in devices if wanted(d)],
        "orphans": virtual.orphans(),
        "pending_enrolments": virtual.pending_enrolments(),
        "users": {},
        "missing_users": [],
        "warnings": [],
    }
    for name in user_names:
        found = user_devices(client, name, virtual)
        if found is None:
            result["missing_users"].append(name)
            result["warnings"].append("IAM user %s does not exist." % name)
        else:
            result["users"][name] = found
    result["summary"] = {
        "virtual": len(devices),
        "virtual_assigned": sum(1 for d in devices if d["assigned"]),
        "orphans": len(result["orphans"]),
        "pending_enrolments": len(result["pending_enrolments"]),
    }
    return result
