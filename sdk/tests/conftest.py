"""Fixtures of the SDK's tests: sample events as SDK ``Event`` values, and no waiting between retries."""

from __future__ import annotations

import pytest
from tenacity import wait_none

from shared.testkit.samples import load_sample
from tributary_sdk import Event


def sample_event(type_: str = "sensor.reading", version: int = 2, **overrides: object) -> Event:
    """The checked-in sample of ``type_`` v``version`` as an :class:`Event` without an id."""
    sample = load_sample(type_, version)
    fields = {"type": type_, "version": version, "data": sample["data"]} | overrides
    return Event(**fields)  # type: ignore[arg-type]


@pytest.fixture
def no_wait() -> object:
    return wait_none()
