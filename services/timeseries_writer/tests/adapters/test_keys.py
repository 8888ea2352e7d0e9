"""Tests of point timestamps in series-keyed stores: stable per event, distinct across events."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from timeseries_writer.adapters.keys import OFFSET_RANGE_NS, id_offset_ns, timestamp_ns
from timeseries_writer.model import Point

AT = datetime(2025, 6, 1, 0, 30, 0, 123456, tzinfo=UTC)


def _p(event_id: str, at: datetime = AT) -> Point:
    return Point(event_id=event_id, metric="m", time=at, value=1.0, unit="count")


def test_the_offset_is_stable_for_an_id() -> None:
    """The same id always gives the same timestamp: a redelivery overwrites its own point."""
    assert timestamp_ns(_p("01JWMEADT0ZDP2YNEETX78MFDG")) == timestamp_ns(_p("01JWMEADT0ZDP2YNEETX78MFDG"))


def test_the_timestamp_stays_inside_the_events_millisecond() -> None:
    """Sub-millisecond digits are replaced by the offset, never carried into the next millisecond."""
    ms = int(datetime(2025, 6, 1, 0, 30, 0, 123000, tzinfo=UTC).timestamp() * 1000)
    assert ms * 1_000_000 <= timestamp_ns(_p("x")) < (ms + 1) * 1_000_000


def test_distinct_ids_at_one_instant_get_distinct_timestamps() -> None:
    """10,000 events of one series at the same instant keep (nearly) all their own points."""
    stamps = {timestamp_ns(_p(f"event-{i}")) for i in range(10_000)}
    assert len(stamps) >= 9_900  # birthday bound for 10^4 ids over 10^6 offsets: ~50 expected collisions


@given(st.text(min_size=1, max_size=128))
def test_any_id_gives_an_offset_in_range(event_id: str) -> None:
    """Offsets are in [0, 1 ms) for any id."""
    try:
        event_id.encode()
    except UnicodeEncodeError:
        return
    assert 0 <= id_offset_ns(event_id) < OFFSET_RANGE_NS
