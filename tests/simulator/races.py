"""Races the simulator stages on purpose: another actor's change at an exact point of a caller's run, and failures on demand.

Not a difference from AWS to correct, but what happens in a busy account: a person enables
a device or starts an enrolment between a tool's list and its delete. Scheduled through
Simulator.race(...) / POST /_iamguard/races, forgotten at reset() and POST /_iamguard/races/clear:

- after: {"action": "ListVirtualMFADevices", "nth": 1, "account": None, "do": {...}}: right
  after the nth answer (counted from when it was scheduled, any status) to the action, before
  the caller sees that answer, the event runs in the account of that call. Events ("do"):
  {"enable": serial, "user": name}: the device gets enabled for the user (as if the person
  sent two good codes); {"create": name, "path": "/", "tags": {...}}: a virtual device is
  created (deleting one of the same serial first: a re-created device); {"tag": serial,
  "tags": {...}}: tags added; {"delete": serial}; {"deactivate": serial, "user": name}.
- fail: {"action": "DeleteVirtualMFADevice", "times": 2, "code": "ServiceFailure", "account": None}: the next
  `times` calls of the action (in `account` only, when given) answer that error (nothing done). Known codes: those of
  faults.CALL_FAULTS plus NoSuchEntity, DeleteConflict, AccessDenied.

Each event runs once; `fired` lists those that ran, so a test can assert that the race it
staged really happened.
"""

import threading

from moto.iam.models import iam_backends

from .faults import CALL_FAULTS
from .protocol import AwsError

ERRORS = {kind[0]: AwsError(*kind[:3], sender=kind[3]) for kind in (e for e in CALL_FAULTS.values() if e)}
ERRORS.update({
    "NoSuchEntity": AwsError("NoSuchEntity", "The entity does not exist (injected by the simulator).", 404),
    "DeleteConflict": AwsError("DeleteConflict", "Cannot delete entity, it is in use (injected by the simulator).", 409),
    "AccessDenied": AwsError("AccessDenied", "Not authorized (injected by the simulator).", 403),
})
EVENTS = ("enable", "create", "tag", "delete", "deactivate")


def _action(value):
    if not isinstance(value, str) or not value:
        raise ValueError("action must be an API action name such as ListVirtualMFADevices (or iam:ListVirtualMFADevices)")
    return value if ":" in value else f"iam:{value}"


def _check_event(event):
    if not isinstance(event, dict) or len([key for key in EVENTS if key in event]) != 1:
        raise ValueError(f"do must name exactly one event of {', '.join(EVENTS)}")
    if ("enable" in event or "deactivate" in event) and not event.get("user"):
        raise ValueError("enable and deactivate need the user")
    return dict(event)


class Races:
    """The scheduled events and failures; thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._after = []  # [action, answers left, account or None, event]
        self._failures = {}  # (action, account or None) -> [calls left, AwsError]
        self.fired = []

    def reset(self):
        with self._lock:
            self._after = []
            self._failures = {}
            self.fired = []

    def add(self, after=None, fail=None):
        """Schedule one race (after=...) or failure (fail=...); raise ValueError on a bad one, and schedule nothing."""
        if (after is None) == (fail is None):
            raise ValueError("give either after or fail")
        if after is not None:
            nth = after.get("nth", 1)
            if isinstance(nth, bool) or not isinstance(nth, int) or nth < 1:
                raise ValueError("nth must be a whole number, 1 or more")
            entry = [_action(after.get("action")), nth, after.get("account"), _check_event(after.get("do"))]
            with self._lock:
                self._after.append(entry)
            return
        times = fail.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError("times must be a whole number, 1 or more")
        code = fail.get("code", "ServiceFailure")
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code}; known: {', '.join(sorted(ERRORS))}")
        with self._lock:
            self._failures[(_action(fail.get("action")), fail.get("account"))] = [times, ERRORS[code]]

    def failure(self, req):
        """The error to answer this call with instead of acting, or None."""
        name = f"{req.service}:{req.action}"
        with self._lock:
            key = next((key for key in ((name, req.account), (name, None)) if key in self._failures), None)
            if key is None:
                return None
            pending = self._failures[key]
            pending[0] -= 1
            if not pending[0]:
                del self._failures[key]
            return pending[1]

    def due(self, req):
        """The events due right after this answer (taken off the schedule)."""
        name = f"{req.service}:{req.action}"
        due = []
        with self._lock:
            for entry in list(self._after):
                if entry[0] != name or entry[2] not in (None, req.account):
                    continue
                entry[1] -= 1
                if not entry[1]:
                    self._after.remove(entry)
                    due.append(entry[3])
            self.fired += due
        return due


def run_event(account, event):
    """Change moto's state of `account` as the event says (the caller holds the account's write lock)."""
    backend = iam_backends[account]["aws"]
    if "enable" in event:
        backend.enable_mfa_device(event["user"], event["enable"], "000000", "000001")
    elif "deactivate" in event:
        backend.deactivate_mfa_device(event["user"], event["deactivate"])
    elif "delete" in event:
        backend.virtual_mfa_devices.pop(event["delete"], None)
    elif "tag" in event:
        device = backend.virtual_mfa_devices[event["tag"]]
        device.layer_tags = {**getattr(device, "layer_tags", {}), **event.get("tags", {})}
    else:
        path = event.get("path") or "/"
        backend.virtual_mfa_devices.pop(f"arn:aws:iam::{account}:mfa{path}{event['create']}", None)
        device = backend.create_virtual_mfa_device(event["create"], path)
        device.layer_tags = dict(event.get("tags") or {})
