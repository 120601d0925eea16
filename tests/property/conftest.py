"""Fixtures of the property tests: module_utils imported from the checkout, one simulator for the session.

Hypothesis drives module_utils' entry points directly (the very functions the modules call), so
hundreds of generated accounts cost seconds, not an ansible-playbook start-up each.
"""

import pytest

# Importing the unit tests' set-up makes ansible_collections.iamguard.aws resolve to this checkout.
import tests.unit.conftest  # noqa: F401  pylint: disable=unused-import
from tests.simulator import Simulator


@pytest.fixture(scope="session")
def simulator():
    with Simulator(root_mfa_device=True) as started:
        yield started
