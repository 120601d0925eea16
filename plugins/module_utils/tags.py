# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words for MFA devices (pure): their types, and the tags this collection puts on virtual devices.

The tags record intent in AWS: for whom and how a device was created, which secret it was
given, and whose it was when a removal began. No AWS call here.
"""

from __future__ import annotations

import calendar
import hashlib
import time

VIRTUAL = "virtual"
HARDWARE = "hardware"
PASSKEY = "passkey"
ROOT_DEVICE_NAME = "root-account-mfa-device"


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


def same_user(name_a, name_b):
    """IAM user names are unique regardless of case."""
    return (name_a or "").lower() == (name_b or "").lower()


def device_name(serial):
    """The last segment of a virtual device's serial (arn:...:mfa/<path>/<name>)."""
    return serial.rsplit("/", 1)[-1]


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
