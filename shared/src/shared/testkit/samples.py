"""The sample events under ``events/`` here: one valid event per contract version, as a producer sends it.

Tests load samples through these helpers instead of building events by hand, and change a fresh copy to
make it invalid.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts import new_event_id

EVENTS_DIR = Path(__file__).resolve().parent / "events"


def load_sample(type_: str, version: int) -> dict[str, Any]:
    """A fresh copy of the sample event of ``type_`` at ``version`` (EventIn shape).

    Raises:
        FileNotFoundError: if there is no sample for that contract.
    """
    return _read(EVENTS_DIR / f"{type_}.v{version}.json")


def fresh_sample(type_: str, version: int) -> dict[str, Any]:
    """The sample event of ``type_`` at ``version`` as a new event: a new id and the time now (the samples'
    fixed times fall out of the series store's retention as the calendar moves on)."""
    return load_sample(type_, version) | {"id": new_event_id(), "time": datetime.now(UTC).isoformat()}


def all_samples() -> list[dict[str, Any]]:
    """A fresh copy of every sample event, sorted by file name."""
    return [_read(path) for path in sorted(EVENTS_DIR.glob("*.json"))]


def _read(path: Path) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return sample
