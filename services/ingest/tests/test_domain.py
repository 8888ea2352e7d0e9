"""Tests of validating submitted events into envelopes, and of the request shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import EVENT_ID_PATTERN, detail_type, new_event_id
from ingest.domain import Limits, RequestShapeError, Validated, events_of, validate_events
from shared.testkit.samples import all_samples, load_sample

NOW = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def _validate(raw: list[Any], limits: Limits | None = None) -> Validated:
    return validate_events(raw, now=NOW, trace=TRACE, limits=limits or Limits())


def _sensor(**changes: Any) -> dict[str, Any]:
    event = load_sample("sensor.reading", 1)
    event.update(changes)
    return event


def _locs(validated: Validated) -> list[list[str]]:
    return [[e.loc for e in r.errors] for r in validated.rejected]


@pytest.mark.parametrize("sample", all_samples(), ids=lambda s: detail_type(s["type"], s["version"]))
def test_every_sample_becomes_an_envelope(sample: dict[str, Any]) -> None:
    """A valid event is accepted as an envelope carrying its fields, the receive time and the trace."""
    validated = _validate([sample])
    assert not validated.rejected
    [(index, envelope)] = validated.accepted
    assert index == 0
    assert envelope.model_dump(mode="json", include={"id", "type", "version", "source", "data"}) == {
        k: sample[k] for k in ("id", "type", "version", "source", "data")
    }
    assert envelope.time == datetime.fromisoformat(sample["time"])
    assert (envelope.ingested_at, envelope.trace) == (NOW, TRACE)


def test_events_without_an_id_get_sortable_unique_ids() -> None:
    """Ingest assigns distinct ULID-style ids whose time prefix falls between ids made before and after."""
    before = new_event_id()
    validated = _validate([_sensor(id=None), _sensor(id=None)])
    after = new_event_id()
    ids = [e.id for _, e in validated.accepted]
    assert len(set(ids)) == 2
    for id_ in ids:
        assert re.fullmatch(EVENT_ID_PATTERN, id_) and len(id_) == 26
        assert before[:10] <= id_[:10] <= after[:10]


def test_a_producer_id_is_kept() -> None:
    """An id the producer set is the envelope's id, unchanged."""
    [(_, envelope)] = _validate([_sensor(id="producer-42:a.b")]).accepted
    assert envelope.id == "producer-42:a.b"


def _without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda event: event.pop(key)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda event: event.update({key: value})


def _set_data(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda event: event["data"].update({key: value})


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (_without("type"), "type"),
        (_without("time"), "time"),
        (_without("data"), "data"),
        (_set("type", "Sensor Reading"), "type"),
        (_set("type", "sensor"), "type"),
        (_set("type", "no.such_thing"), "type"),
        (_set("version", 9), "version"),
        (_set("version", 0), "version"),
        (_set("version", "one"), "version"),
        (_set("id", "has spaces"), "id"),
        (_set("source", ""), "source"),
        (_set("time", "2025-06-01T09:30:00"), "time"),
        (_set("time", "yesterday"), "time"),
        (_set("data", ["not", "an", "object"]), "data"),
        (_set("colour", "red"), "colour"),
        (_set_data("value", "warm"), "data.value"),
        (_set_data("unit", "furlong"), "data.unit"),
        (_set_data("device_id", "has spaces"), "data.device_id"),
        (_set_data("extra", 1), "data.extra"),
        (lambda event: event["data"].pop("site_id"), "data.site_id"),
    ],
    ids=[
        "missing-type",
        "missing-time",
        "missing-data",
        "type-with-space",
        "type-without-dot",
        "unknown-type",
        "unknown-version",
        "version-zero",
        "version-not-int",
        "bad-id",
        "empty-source",
        "naive-time",
        "unparsable-time",
        "data-not-object",
        "extra-envelope-field",
        "data-value-type",
        "data-unit-enum",
        "data-id-pattern",
        "data-extra-field",
        "data-missing-field",
    ],
)
def test_bad_events_are_rejected_at_their_field(change: Callable[[dict[str, Any]], None], loc: str) -> None:
    """Each kind of bad event is rejected, and its first error names the field at fault."""
    event = load_sample("sensor.reading", 1)
    change(event)
    validated = _validate([event])
    assert not validated.accepted
    [rejection] = validated.rejected
    assert rejection.index == 0 and not rejection.retryable and rejection.id is None
    assert rejection.errors and all(e.msg for e in rejection.errors)
    assert [e.loc for e in rejection.errors] == [loc]


def test_unknown_type_and_unknown_version_say_what_is_known() -> None:
    """An unknown type says so; an unknown version of a known type lists the known versions."""
    validated = _validate([_sensor(type="no.such_thing"), _sensor(version=7)])
    unknown_type, unknown_version = validated.rejected
    assert "not a known event type" in unknown_type.errors[0].msg
    assert "known versions of 'sensor.reading': [1, 2]" in unknown_version.errors[0].msg


def test_nested_data_errors_name_the_full_path() -> None:
    """An error inside a list of the payload names the item and its field, dotted."""
    order = load_sample("order.placed", 1)
    order["data"]["items"][1]["quantity"] = 0
    assert _locs(_validate([order])) == [["data.items.1.quantity"]]


def test_every_error_of_an_event_is_reported() -> None:
    """An event with several bad fields gets one error per field, not just the first."""
    event = _sensor(source="")
    del event["type"]
    event["version"] = 0
    assert sorted(_locs(_validate([event]))[0]) == ["source", "type", "version"]


@pytest.mark.parametrize(
    "time",
    [
        "9999-12-31T23:30:00-05:00",
        "0001-01-01T00:30:00+09:00",
        "0001-01-01T00:30:00+01:00",
        "1969-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
        "2025-06-01 09:30:00Z",
        "1748737800",
    ],
)
def test_a_time_outside_the_stores_range_is_rejected(time: str) -> None:
    """A time that is not RFC 3339, or falls outside 1970-2099 once converted to UTC, is rejected at ``time``.

    The bus (PutEvents ``Time``), the archiver's partitions and every store need a UTC time they can hold;
    without this check such an event made the EventBridge adapter raise and ingest answer 500.
    """
    assert _locs(_validate([_sensor(time=time)])) == [["time"]]


@pytest.mark.parametrize("item", [1, "event", None, [], True, 2.5], ids=repr)
def test_an_event_that_is_not_an_object_is_rejected(item: Any) -> None:
    """A non-object event is rejected as a whole (``loc`` is the empty path: the event itself)."""
    [rejection] = _validate([item]).rejected
    assert [(e.loc, e.msg) for e in rejection.errors] == [("", "event must be a JSON object")]


def test_an_event_over_the_size_limit_is_rejected_and_one_at_it_is_not() -> None:
    """The limit applies to the envelope's JSON in bytes: at the limit passes, one byte over fails."""
    event = _sensor(id="fixed-id")
    [(_, envelope)] = _validate([event]).accepted
    size = len(envelope.model_dump_json().encode())
    assert _validate([event], Limits(max_event_bytes=size)).accepted
    [rejection] = _validate([event], Limits(max_event_bytes=size - 1)).rejected
    [error] = rejection.errors
    assert error.loc == ""
    assert f"is {size} bytes" in error.msg and f"limit is {size - 1}" in error.msg


def test_size_counts_utf8_bytes_not_characters() -> None:
    """Multi-byte characters count as the bytes the bus will see."""
    ascii_name = load_sample("cat.sighting", 1)
    ascii_name["data"]["municipality_name"] = "x" * 30
    kanji_name = load_sample("cat.sighting", 1)
    kanji_name["data"]["municipality_name"] = "新" * 30
    [(_, envelope)] = _validate([ascii_name]).accepted
    limit = len(envelope.model_dump_json().encode())
    assert _validate([ascii_name], Limits(max_event_bytes=limit)).accepted
    assert _validate([kanji_name], Limits(max_event_bytes=limit)).rejected


def test_an_id_reused_with_other_content_in_one_request_is_an_id_conflict() -> None:
    """The second event with an id already used for a different event is rejected at ``id``; the first
    stays."""
    other = _sensor(id="dup")
    other["data"]["value"] = 99.5
    validated = _validate([_sensor(id="dup"), _sensor(id="other"), other])
    assert [i for i, _ in validated.accepted] == [0, 1]
    [rejection] = validated.rejected
    assert (rejection.index, rejection.id) == (2, "dup")
    assert [(e.loc, e.msg) for e in rejection.errors] == [
        ("id", "id_conflict: event 0 has this id with different content")
    ]


def test_the_same_event_twice_in_one_request_is_a_repeat() -> None:
    """An identical resend within the request is published once and shares the first one's outcome."""
    validated = _validate([_sensor(id="dup"), _sensor(id="other"), _sensor(id="dup")])
    assert [i for i, _ in validated.accepted] == [0, 1]
    assert validated.rejected == [] and validated.repeats == {2: 0}


def test_indices_follow_the_request_order() -> None:
    """Accepted and rejected events keep their index in the request."""
    validated = _validate([_sensor(id=None), 1, _sensor(id=None), _sensor(type="x"), _sensor(id=None)])
    assert [i for i, _ in validated.accepted] == [0, 2, 4]
    assert [r.index for r in validated.rejected] == [1, 3]


def test_events_of_returns_the_event_list() -> None:
    """A body ``{"events": [...]}`` within the limits yields its list, up to max_events inclusive."""
    events = [{}] * 3
    assert events_of({"events": events}, Limits(max_events=3)) is events


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([{"type": "sensor.reading"}], "exactly one key"),
        ("events", "exactly one key"),
        (None, "exactly one key"),
        (42, "exactly one key"),
        ({}, "exactly one key"),
        ({"events": [{}], "extra": 1}, "exactly one key"),
        ({"event": [{}]}, "exactly one key"),
        ({"events": {}}, "non-empty list"),
        ({"events": "a"}, "non-empty list"),
        ({"events": None}, "non-empty list"),
        ({"events": []}, "non-empty list"),
        ({"events": [{}] * 4}, "holds 4 events; the limit is 3"),
    ],
    ids=[
        "list",
        "string",
        "null",
        "number",
        "empty-object",
        "extra-key",
        "misspelt-key",
        "events-object",
        "events-string",
        "events-null",
        "events-empty",
        "over-max-events",
    ],
)
def test_events_of_rejects_bad_request_shapes(doc: Any, message: str) -> None:
    """A body that is not an object with exactly ``events``: 1..max_events raises RequestShapeError."""
    with pytest.raises(RequestShapeError, match=re.escape(message)):
        events_of(doc, Limits(max_events=3))


@pytest.mark.parametrize("version", [1, 2])
def test_both_sensor_reading_versions_are_accepted(version: int) -> None:
    """A v1 producer and a v2 producer are both taken; the envelope keeps the version sent."""
    result = validate_events([load_sample("sensor.reading", version)], now=NOW, trace=TRACE, limits=Limits())
    assert [(e.type, e.version) for _, e in result.accepted] == [("sensor.reading", version)]
