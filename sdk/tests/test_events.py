"""Tests of the checks every event passes before it is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from contracts.events import SensorReadingV2
from shared.putevents import MAX_REQUEST_BYTES, entry_size
from shared.tracing import new_trace_header
from tributary_sdk import INVALID, TOO_LARGE, Event
from tributary_sdk.events import prepare

from .conftest import sample_event

TRACE = new_trace_header()
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _prepare(events: list[Event], **kw: int) -> tuple[list, list]:  # type: ignore[type-arg]
    return prepare(events, source="tests.sdk", bus_name="tributary", trace=TRACE, now=NOW, **kw)


def test_valid_events_get_ids_the_trace_and_their_entry() -> None:
    """Each event gets a fresh id, the call's trace (entry and envelope) and ``<type>.v<version>``."""
    [a, b], refused = _prepare([sample_event(), sample_event("cat.sighting", 1)])
    assert refused == []
    assert a.envelope.id != b.envelope.id
    assert a.entry["TraceHeader"] == TRACE == a.envelope.trace
    assert (a.entry["DetailType"], a.entry["Source"], a.envelope.time) == (
        "sensor.reading.v2",
        "tests.sdk",
        NOW,
    )


def test_a_contract_model_is_accepted_as_data() -> None:
    data = SensorReadingV2.model_validate(sample_event().data)
    [ready], _ = _prepare(
        [Event(type="sensor.reading", version=2, data=data, id="01JWMEADT0ZDP2YNEETX78MFDH")]
    )
    assert ready.envelope.data["quantity"] == {"value": 23.4, "unit": "celsius"}
    assert ready.envelope.id == "01JWMEADT0ZDP2YNEETX78MFDH"


def test_invalid_events_are_refused_naming_the_field() -> None:
    """A bad unit, an unknown version and a bad type each fail alone, with the reason; the rest go."""
    bad_unit = sample_event()
    bad_unit.data["quantity"]["unit"] = "kelvins"  # type: ignore[index]
    unknown = Event(type="sensor.reading", version=9, data={})
    events = [bad_unit, unknown, sample_event(type="Bad Type"), sample_event()]
    ready, refused = _prepare(events)
    assert [r.index for r in ready] == [3]
    assert [(r.index, r.code) for r in refused] == [(0, INVALID), (1, INVALID), (2, INVALID)]
    assert refused[0].message and refused[0].message.startswith("data.quantity.unit: Input should be")
    assert "known versions of 'sensor.reading': [1, 2]" in (refused[1].message or "")
    assert (refused[2].message or "").startswith("type: String should match pattern")


def test_oversize_events_are_refused_before_sending() -> None:
    """An event over the limit, sized as a PutEvents entry, is refused; the one at the limit goes."""
    [small], _ = _prepare([sample_event()])
    limit = entry_size(small.entry)
    longer = sample_event()
    longer.data["device_id"] = "dev-" + "9" * 100  # type: ignore[index]
    ready, refused = _prepare([longer, sample_event()], max_event_bytes=limit)
    assert [r.index for r in ready] == [1]
    assert [(r.index, r.code) for r in refused] == [(0, TOO_LARGE)]
    assert f"the limit is {limit}" in (refused[0].message or "")


def test_the_default_limit_is_put_events_request_limit() -> None:
    assert MAX_REQUEST_BYTES == 256 * 1024


def test_bad_times_and_stringly_data_are_refused_before_the_bus() -> None:
    """Bus mode skips ingest, so the SDK refuses what ingest would: a time no store holds (or with no UTC
    time at all), a number sent as a string, text with a NUL."""
    year_one = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    stringly = sample_event()
    stringly.data["quantity"]["value"] = "21.5"  # type: ignore[index]
    nul = sample_event("trade.completed", 1)
    nul.data["movements"][0]["player_name"] = "a\x00b"  # type: ignore[index]
    events = [
        sample_event(time=year_one),
        sample_event(time=datetime(2100, 1, 1, tzinfo=UTC)),
        stringly,
        nul,
        sample_event(time=datetime(1970, 1, 1, tzinfo=UTC)),
    ]
    ready, refused = _prepare(events)
    assert [r.index for r in ready] == [4]
    assert [(r.index, (r.message or "").split(":")[0]) for r in refused] == [
        (0, "time"),
        (1, "time"),
        (2, "data.quantity.value"),
        (3, "data.movements.0.player_name"),
    ]
