"""Fixtures for the runtime's tests."""

from __future__ import annotations

import pytest

from tests.support.envelopes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
