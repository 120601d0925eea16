# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the module_utils unit tests."""

from __future__ import annotations

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import calls, tags as mfa_tags
from tests.unit.plugins.module_utils.mfa_stubs import NOW


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries without the waits, so a test of 20 attempts takes no time."""
    monkeypatch.setattr(calls, "RETRY_DELAY", 0)


@pytest.fixture(name="clock")
def fixture_clock(monkeypatch):
    """time.time() frozen at NOW, so generated codes are the RFC 6238 ones."""
    monkeypatch.setattr(mfa_tags.time, "time", lambda: float(NOW))
