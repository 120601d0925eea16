"""Shared by every test directory: how pytest-xdist hands the tests out to its workers.

``bash scripts/test.sh`` runs ``pytest -n 3 --dist loadgroup``: the tests go to the workers one at a time,
whichever worker is free (LONGEST_FIRST's first), except that the tests of each module in ONE_WORKER go together to one worker.
Those modules share a module fixture that is expensive to build (the built tarball, a benchmark run), which
is then built once instead of once per worker. (pytest-xdist 3.8 marks the groups of ``--dist loadgroup``
with its ``xdist_group`` mark by renaming the tests, which pytest 9.2 no longer allows: the mark would be
ignored, so the groups are named here.)
"""

import pytest

ONE_WORKER = (
    "tests/bench_tests/test_purge_bench.py",
    "tests/integration/test_build.py",
)
# Handed out first, longest first (node id prefixes; figures from the slowest-tests list that ends test.sh's pytest log):
# a one- or two-minute test that starts last ends the run alone on one worker while the other workers are done.
LONGEST_FIRST = (
    "tests/integration/test_playbooks_demo.py::test_demo_writes_outside_the_checkout",   # ~120 s
    "tests/bench_tests/test_purge_bench.py",                                               # ~95 s (the smoke run)
    "tests/integration/test_examples.py",                                                  # ~85 s
    "tests/property/test_plan_equals_apply.py",                                            # ~70 s
    "tests/integration/test_crash.py::test_sigkill_at_random_points",                      # ~50 s
    "tests/integration/test_faults_mfa.py",                                                # ~35 s each
    "tests/integration/test_concurrent_offboarding.py",
    "tests/integration/test_playbooks_",                                                   # 10-30 s each
)


def pytest_collection_modifyitems(items):
    """LONGEST_FIRST's tests first, in its order; every other test after them, in collection order."""
    def rank(item):
        return next((index for index, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadgroup``: every test a unit of work of its own, every module of ONE_WORKER one unit."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class Scheduler(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER else nodeid

    return Scheduler(config, log)
