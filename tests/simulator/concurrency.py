"""Which calls may run at the same time inside the simulator.

moto's backends are plain Python objects (dicts walked by Python loops), so a call that
changes an account must not run while another call reads or changes that same account. AWS
treats each API call as one atomic step too, so that is the only lock: reads of an account
overlap, writes of an account take turns, different accounts never wait for each other, and
the order in which concurrent callers get their turn is whatever the threads make it.
Option `concurrency: serial` brings back one call at a time (the simulator's old behaviour),
to compare.
"""

import collections
import contextlib
import threading

MODES = ("accounts", "serial")
# Get* calls that change state (they issue credentials).
WRITE_ACTIONS = frozenset(("GetSessionToken", "GetFederationToken"))


def is_read(action):
    """True when the API action only reads (List*, Get*, Simulate*), whatever the service."""
    return action not in WRITE_ACTIONS and action.startswith(("List", "Get", "Simulate"))


class ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before new readers (no starvation)."""

    def __init__(self):
        self._changed = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def shared(self):
        with self._changed:
            self._changed.wait_for(lambda: not (self._writing or self._writers_waiting))
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def exclusive(self):
        with self._changed:
            self._writers_waiting += 1
            self._changed.wait_for(lambda: not (self._writing or self._readers))
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


class CallLocks:
    """The locks a call holds while moto and the realism layer work on its account."""

    def __init__(self):
        self._everything = ReadWriteLock()  # held exclusively by reset, shared by every call
        self._accounts = collections.defaultdict(ReadWriteLock)
        self._accounts_guard = threading.Lock()
        self._serial = threading.Lock()

    def _account(self, account):
        with self._accounts_guard:
            return self._accounts[account]

    @contextlib.contextmanager
    def call(self, account, write, mode):
        """Hold what a call on `account` needs: shared for a read, exclusive for a write (mode accounts), or everything (serial)."""
        if mode == "serial":
            with self._serial:
                yield
            return
        lock = self._account(account)
        with self._everything.shared(), (lock.exclusive() if write else lock.shared()):
            yield

    @contextlib.contextmanager
    def everything(self):
        """No call runs meanwhile, in either mode (reset)."""
        with self._serial, self._everything.exclusive():
            yield
