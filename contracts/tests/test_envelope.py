"""Tests of the envelope models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.envelope import Envelope, EventIn, detail_type
from shared.testkit.samples import all_samples, load_sample
from shared.testkit.validation import error_locs


@pytest.mark.parametrize("sample", all_samples(), ids=lambda s: detail_type(s["type"], s["version"]))
def test_every_sample_is_a_valid_event_in(sample: dict[str, object]) -> None:
    """Each sample event has the shape producers submit."""
    EventIn.model_validate(sample)


def test_event_in_id_is_optional() -> None:
    """A producer may leave the id to ingest."""
    sample = load_sample("sensor.reading", 1)
    del sample["id"]
    assert EventIn.model_validate(sample).id is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time", "2025-06-01T09:30:00"),
        ("type", "Sensor Reading"),
        ("version", 0),
        ("id", "has spaces"),
        ("source", ""),
    ],
    ids=["naive-time", "bad-type", "version-zero", "bad-id", "empty-source"],
)
def test_event_in_rejects_bad_fields(field: str, value: object) -> None:
    """Bad envelope fields are rejected at that field."""
    sample = load_sample("sensor.reading", 1)
    sample[field] = value
    assert error_locs(EventIn, sample) == [(field,)]


def test_event_in_rejects_unknown_fields() -> None:
    """An unexpected top-level field is named in the error."""
    sample = load_sample("sensor.reading", 1)
    sample["ingested_at"] = "2025-06-01T00:30:00Z"
    assert error_locs(EventIn, sample) == [("ingested_at",)]


def test_envelope_detail_type() -> None:
    """The EventBridge DetailType of an envelope is ``<type>.v<version>``."""
    sample = load_sample("trade.completed", 1)
    envelope = Envelope.model_validate({**sample, "ingested_at": datetime.now(UTC), "trace": None})
    assert envelope.detail_type == "trade.completed.v1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time", "0001-01-01T00:30:00+01:00"),
        ("time", "9999-12-31T00:00:00Z"),
        ("time", "1969-12-31T23:59:59Z"),
        ("time", 1748737800),
        ("ingested_at", "2100-01-01T00:00:00Z"),
        ("version", "1"),
        ("version", True),
        ("version", 1.0),
        ("trace", "Root=1-\x00"),
    ],
    ids=repr,
)
def test_envelope_from_the_bus_rejects_bad_fields(field: str, value: object) -> None:
    """An envelope that skipped ingest (SDK bus mode, a redrive, a replay) is refused at the same field."""
    doc = load_sample("sensor.reading", 1) | {"ingested_at": "2025-06-01T00:30:01Z", "trace": None}
    doc[field] = value
    assert error_locs(Envelope, doc) == [(field,)]
