# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MFA devices as read from IAM: the account's virtual-device index, typing, and iam_mfa_device_info's inventory.

No IAM API returns a device's type. A device is virtual when its serial is in
ListVirtualMFADevices (read once per run, account-wide); a ``:u2f/`` serial
is a passkey or security key; anything else is a hardware TOTP token. An
``arn:...:mfa/...`` serial proves nothing: console-registered hardware tokens
get such serials too.
"""


from __future__ import annotations

import threading
import time

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.paging import iso_date, read
from ansible_collections.iamguard.aws.plugins.module_utils.tags import (
    HARDWARE, PASSKEY, ROOT_DEVICE_NAME, VIRTUAL, device_name, enrolment_facts, enrolment_user, removal_user, same_user,
)

# AWS refuses SigV4 requests signed more than 15 minutes off its clock, so no EnableDate is further off ours.
CLOCK_SKEW_LIMIT = 15 * 60


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


def enabled_for(client, user_name, serial):
    """The ListMFADevices entry of ``serial`` for ``user_name``, or None when it is not enabled for that user."""
    raw = read(client, "list_mfa_devices", "MFADevices", "ListMFADevices for %s" % user_name, missing_ok=True, UserName=user_name)
    return next((device for device in raw or [] if device["SerialNumber"] == serial), None)


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
