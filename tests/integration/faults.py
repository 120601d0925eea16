"""The fault mix of the fault-survival tests, injected by the simulator (its option `faults`, see tests/simulator/faults.py).

A bad minute in AWS: throttling, HTTP 500 and 503, IAM's short-lived
EntityTemporarilyUnmodifiable / ConcurrentModification on changes, and connections dropped
before the request reaches IAM or after IAM acted (the answer is lost). Before the retry
policy, 26 of 30 users of a batch purge failed under it.
"""

from __future__ import annotations

import collections

# The settling errors hit 5 % of the changes, half of each kind.
FAULT_MIX = {"throttling": 0.30, "http_500": 0.05, "http_503": 0.05, "drop_before": 0.03, "drop_after": 0.03,
             "temporarily_unmodifiable": 0.025, "concurrent_modification": 0.025}


class Faults:
    """``with faults:`` blocks in which the simulator injects FAULT_MIX; between them the test's own reads go clean.

    Each block starts from its own seed (``seed``, ``seed + 1``, ...), so a run meets the same
    faults every time. ``counts`` adds up the simulator's counters of every block: calls acted
    on ("iam:ListUsers"), and "fault:<kind>" per injected fault.
    """

    def __init__(self, sim, seed):
        self._sim = sim
        self._seed = seed
        self.counts = collections.Counter()

    def __enter__(self):
        self._sim.reset_counters()
        self._sim.configure(faults=FAULT_MIX, fault_seed=self._seed)
        self._seed += 1
        return self

    def __exit__(self, *exc_info):
        self._sim.configure(faults={})
        self.counts.update(self._sim.counters())

    def injected(self, kind):
        return self.counts["fault:" + kind]

    @property
    def requests(self):
        """Requests that reached the simulator: calls acted on, plus those a fault answered instead (a drop_after was acted on)."""
        acted = sum(count for key, count in self.counts.items() if key.startswith(("iam:", "sts:")))
        answered = sum(count for key, count in self.counts.items() if key.startswith("fault:") and key not in ("fault:drop_after", "fault:stale_list"))
        return acted + answered

    def summary(self):
        return dict({key.split(":", 1)[1]: count for key, count in self.counts.items() if key.startswith("fault:")}, requests=self.requests)
