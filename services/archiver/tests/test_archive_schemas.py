"""Every line the archiver writes validates against its version's published JSON Schema."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

from archiver.domain import encode
from contracts import Envelope, validate_data
from shared.testkit.samples import all_samples, load_sample
from tests.support.archive_schemas import schema_violations

_NOW = datetime(2025, 6, 2, tzinfo=UTC)


def _envelope(event: dict[str, Any]) -> Envelope:
    """``event`` as ingest accepts it (the test fails here if it is not valid)."""
    validate_data(event["type"], event["version"], event["data"])
    return Envelope.model_validate(event | {"ingested_at": _NOW.isoformat(), "trace": None})


def _archived_lines(envelopes: list[Envelope]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(encode(envelopes)).splitlines()]


def _edge_cases() -> list[dict[str, Any]]:
    """Valid events at the edges of what contracts take: range ends, odd offsets, numbers, text."""
    reading = load_sample("sensor.reading", 1)
    order = load_sample("order.placed", 1)
    order["data"]["items"] = [
        {"product_id": "p-1", "quantity": 3, "unit_price": 2},
        {"product_id": "p-2", "quantity": 1, "unit_price": "0.0001"},
    ]
    order["data"]["total_amount"] = 6.0001
    cat = load_sample("cat.sighting", 1)
    cat["data"] |= {"municipality_name": "新宿区 — Shinjuku ☆", "ear_tipped": True}
    dlq = load_sample("ops.dlq_depth", 1)
    dlq["data"] |= {"observed_at": "2099-12-31T23:59:59.999999999Z", "oldest_age_s": 0}
    return [
        reading | {"id": "earliest", "time": "1970-01-01T09:00:00+09:00"},
        reading | {"id": "latest", "time": "2099-12-31T23:59:59.999999Z"},
        reading | {"id": "lower-case", "time": "2025-06-01t09:30:00.5-09:30"},
        reading | {"id": "integer-value", "data": reading["data"] | {"value": -40}},
        order | {"id": "decimals"},
        cat | {"id": "unicode-text"},
        dlq | {"id": "nanoseconds"},
    ]


def test_every_sample_archives_as_lines_its_schema_accepts() -> None:
    """The archive of one valid event per contract version breaks no published schema."""
    lines = _archived_lines([_envelope(sample) for sample in all_samples()])
    assert len(lines) == len(all_samples())
    assert schema_violations(lines) == []


def test_edge_cases_of_valid_events_archive_as_lines_their_schema_accepts() -> None:
    """Range ends, offsets, integers for numbers, decimals as numbers and strings, unicode text."""
    lines = _archived_lines([_envelope(event) for event in _edge_cases()])
    assert [line["id"] for line in lines] == [e["id"] for e in _edge_cases()]
    assert schema_violations(lines) == []


def test_the_check_catches_a_line_that_breaks_its_schema() -> None:
    """A stringly-typed number in data and a non-RFC 3339 time are reported with where they are."""
    [line] = _archived_lines([_envelope(load_sample("sensor.reading", 1))])
    line["data"]["value"] = "21.5"
    line["time"] = "2025-06-01 09:30:00Z"
    problems = schema_violations([line])
    assert len(problems) == 2
    assert any("$.time" in p for p in problems)
    assert any("data.value" in p for p in problems)
