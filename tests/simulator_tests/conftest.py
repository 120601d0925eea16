"""Fixtures: one simulator for the session, wiped and set back to default options around each test."""

import pytest
from botocore.config import Config

from tests.simulator import Simulator, seed
from tests.simulator.server import Options

NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture(scope="session")
def simulator():
    with Simulator() as started:
        yield started


@pytest.fixture(autouse=True)
def sim(simulator):
    simulator.reset()
    yield simulator
    simulator.configure(**Options.DEFAULTS)


@pytest.fixture
def iam(sim):
    return sim.client("iam", config=NO_RETRIES)


@pytest.fixture
def sts(sim):
    return sim.client("sts", config=NO_RETRIES)


@pytest.fixture
def admin(sim, iam):
    """An IAM user with an access key, and clients that call as that user."""
    made = seed.caller_user(iam)
    keys = {"access_key": made["access_key_id"], "secret_key": made["secret_access_key"]}
    made["iam"] = sim.client("iam", config=NO_RETRIES, **keys)
    made["sts"] = sim.client("sts", config=NO_RETRIES, **keys)
    return made
