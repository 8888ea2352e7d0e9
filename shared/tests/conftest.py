"""Fixtures for the runtime's tests."""

from __future__ import annotations

import pytest

from shared.testkit.envelopes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
