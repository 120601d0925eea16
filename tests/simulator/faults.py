"""Faults the simulator injects on purpose, so that retries and recovery are really exercised.

Not a difference from AWS to correct, but what AWS and the network do now and then. Option
`faults` maps a kind to the share of calls (0 to 1) it hits; one draw per call from one RNG
(seeded by option `fault_seed` at configure() and at every reset(), so a sequence of calls
meets the same faults on every run; concurrent callers draw in the order their threads
arrive). Kinds:

- throttling: `Throttling` "Rate exceeded", HTTP 400, as IAM throttles; nothing done.
- http_500: `ServiceFailure`, HTTP 500; nothing done.
- http_503: `ServiceUnavailable`, HTTP 503; nothing done.
- drop_before: the connection is closed before the backend acts (no answer, nothing done).
- drop_after: the backend acts, then the connection is closed (done, the answer is lost).
- temporarily_unmodifiable: `EntityTemporarilyUnmodifiable`, HTTP 409 (mutating calls only).
- concurrent_modification: `ConcurrentModification`, HTTP 409 (mutating calls only).
- stale_list: a removal that succeeds leaves what it removed in its List call for
  `linger_seconds` (IAM is eventually consistent): DeleteUser -> ListUsers,
  DeleteVirtualMFADevice -> ListVirtualMFADevices, DeactivateMFADevice -> ListMFADevices,
  DeleteAccessKey -> ListAccessKeys.

A mutating-only kind's share is a share of the mutating calls, stale_list's a share of
those four removals. Option `fault_actions` (patterns such as "iam:Delete*" or "ListUsers")
limits faults to the calls it matches; empty: every IAM and STS call.
"""

import fnmatch
import random
import threading
import time

from .concurrency import is_read
from .protocol import AwsError

# kind: the AWS error it answers, or None for a dropped connection
CALL_FAULTS = {
    "throttling": ("Throttling", "Rate exceeded", 400, True),
    "http_500": ("ServiceFailure", "The service failed to process the request (injected by the simulator).", 500, False),
    "http_503": ("ServiceUnavailable", "The service is unavailable, try again later (injected by the simulator).", 503, False),
    "drop_before": None,
    "drop_after": None,
    "temporarily_unmodifiable": ("EntityTemporarilyUnmodifiable",
                                 "The entity is being changed by an earlier request and cannot be modified yet (injected by the simulator).",
                                 409, True),
    "concurrent_modification": ("ConcurrentModification",
                                "Another request is modifying this entity at the same time (injected by the simulator).", 409, True),
}
MUTATING_ONLY = ("temporarily_unmodifiable", "concurrent_modification")
STALE_LIST = "stale_list"
LINGERING_DELETES = ("iam:DeleteUser", "iam:DeleteVirtualMFADevice", "iam:DeactivateMFADevice", "iam:DeleteAccessKey")
KINDS = (*CALL_FAULTS, STALE_LIST)
FAULTED_SERVICES = ("iam", "sts")


def check_shares(shares):
    """Option `faults`: {kind: share}; the shares of the kinds that can hit one call add up to 1 at most."""
    if not isinstance(shares, dict):
        raise ValueError("faults must be a mapping of fault kind to share of calls")
    unknown = sorted(set(shares) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown fault kind(s): {', '.join(unknown)}; known: {', '.join(KINDS)}")
    checked = {}
    for kind, share in shares.items():
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise ValueError(f"faults.{kind} must be a share between 0 and 1")
        if share:
            checked[kind] = float(share)
    if sum(checked.values()) > 1:
        raise ValueError("the fault shares must add up to 1 at most")
    return checked


def check_patterns(patterns):
    """Option `fault_actions`: a list of patterns, "service:Action" or "Action", shell wildcards allowed."""
    patterns = patterns or ()
    if isinstance(patterns, str) or not all(isinstance(pattern, str) and pattern for pattern in patterns):
        raise ValueError("fault_actions must be a list of action patterns such as iam:Delete* or ListUsers")
    return tuple(patterns)


def aws_error(kind):
    """The error answer of a fault kind; None when it answers no error (dropped connections, stale_list, no fault)."""
    error = CALL_FAULTS.get(kind)
    return None if error is None else AwsError(*error[:3], sender=error[3])


class FaultDraw:
    """Picks the fault, if any, that meets each call."""

    def __init__(self, options):
        self.options = options
        self._lock = threading.Lock()
        self._rng = random.Random(options.fault_seed)

    def reseed(self):
        with self._lock:
            self._rng.seed(self.options.fault_seed)

    def _targeted(self, req):
        if req.service not in FAULTED_SERVICES:
            return False
        patterns = self.options.fault_actions
        name = f"{req.service}:{req.action}"
        return not patterns or any(fnmatch.fnmatchcase(name if ":" in p else req.action, p) for p in patterns)

    def _applies(self, kind, req):
        if kind == STALE_LIST:
            return f"{req.service}:{req.action}" in LINGERING_DELETES
        return kind not in MUTATING_ONLY or not is_read(req.action)

    def draw(self, req):
        """The fault kind for this call, or None."""
        shares = self.options.faults
        if not shares or not self._targeted(req):
            return None
        with self._lock:
            roll = self._rng.random()
        for kind in KINDS:
            share = shares.get(kind, 0.0)
            if not share or not self._applies(kind, req):
                continue
            if roll < share:
                return kind
            roll -= share
        return None


class RecentlyDeleted:
    """Entities a Delete removed that their List call still shows for a while (fault stale_list)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entities = {}  # (account, list name, key) -> (entity, monotonic deadline)

    def add(self, account, listing, key, entity, seconds):
        with self._lock:
            self._entities[(account, listing, key)] = (entity, time.monotonic() + seconds)

    def still_listed(self, account, listing, live_keys):
        """The lingering entities of one listing whose key is not live again."""
        now = time.monotonic()
        with self._lock:
            for stored in [k for k, (dummy, deadline) in self._entities.items() if deadline <= now]:
                del self._entities[stored]
            return [entity for (acct, name, key), (entity, dummy) in self._entities.items()
                    if acct == account and name == listing and key not in live_keys]

    def clear(self):
        with self._lock:
            self._entities.clear()
