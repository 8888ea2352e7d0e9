"""Test helpers: envelopes built from the checked-in samples, rule-delivered bodies, a hand-moved clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from contracts import Envelope, new_event_id
from shared.testkit.samples import load_sample


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def envelope(type_: str = "sensor.reading", version: int = 1, **overrides: object) -> Envelope:
    """A valid envelope, with a fresh id, from the sample event of ``type_``."""
    sample = load_sample(type_, version)
    fields = {
        "id": new_event_id(),
        "type": type_,
        "version": version,
        "source": sample["source"],
        "time": sample["time"],
        "ingested_at": datetime.now(UTC),
        "trace": None,
        "data": sample["data"],
    }
    return Envelope.model_validate(fields | overrides)


def rule_body(event: Envelope) -> str:
    """The SQS body an EventBridge rule delivers for ``event``."""
    return json.dumps(
        {
            "version": "0",
            "id": "eb-" + event.id,
            "detail-type": event.detail_type,
            "source": event.source,
            "time": event.time.isoformat(),
            "detail": json.loads(event.model_dump_json()),
        }
    )
