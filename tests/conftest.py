"""Shared by every test directory: how pytest-xdist hands the tests out to its workers.

``bash scripts/test.sh`` runs ``pytest -n 3 --dist loadgroup``: the tests go to the workers one at a time,
whichever worker is free, except that the tests of each module in ONE_WORKER go together to one worker.
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
