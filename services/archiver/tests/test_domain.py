"""Tests of the archive layout (partitions and object keys) and of the object format."""

from __future__ import annotations

import gzip
import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.domain import Partition, decode, encode, object_key, partition_events, partition_of
from contracts import detail_type
from shared.testkit.envelopes import envelope
from shared.testkit.samples import all_samples


@pytest.mark.parametrize(
    ("time", "dt", "hour"),
    [
        ("2025-06-01T00:10:00Z", "2025-06-01", "00"),
        ("2025-06-01T09:30:00+09:00", "2025-06-01", "00"),
        ("2025-06-01T05:00:00+09:00", "2025-05-31", "20"),
        ("2025-12-31T22:30:00-05:00", "2026-01-01", "03"),
        ("2024-02-29T23:59:59.999999+00:00", "2024-02-29", "23"),
    ],
    ids=["utc", "tokyo-same-day", "tokyo-previous-day", "new-york-next-year", "leap-day-last-instant"],
)
def test_events_are_partitioned_by_their_time_in_utc(time: str, dt: str, hour: str) -> None:
    """The partition is the event's own time converted to UTC, whatever offset the producer used."""
    assert partition_of(envelope(time=time)) == Partition("sensor.reading", 1, dt, hour)


def test_the_same_instant_in_different_offsets_is_one_partition() -> None:
    """09:30 in Tokyo and 00:30 UTC are the same hour of the archive."""
    assert partition_of(envelope(time="2025-06-01T09:30:00+09:00")) == partition_of(
        envelope(time="2025-06-01T00:30:00Z")
    )


def test_the_key_layout_is_hive_style() -> None:
    """``events/type=/version=/dt=/hour=/<flush>.ndjson.gz``, as Athena partition projection reads it."""
    partition = partition_of(envelope("order.placed", time="2025-06-02T11:20:45+09:00"))
    assert object_key(partition, "01JWQ71Y28YK5BJFWQ57TP60K2") == (
        "events/type=order.placed/version=1/dt=2025-06-02/hour=02/01JWQ71Y28YK5BJFWQ57TP60K2.ndjson.gz"
    )


def test_partitioning_groups_events_and_keeps_their_order() -> None:
    """Events are grouped by type, version, day and hour, in arrival order within each group."""
    a = envelope(id="a", time="2025-06-01T00:10:00Z")
    b = envelope("order.placed", id="b", time="2025-06-01T00:20:00Z")
    c = envelope(id="c", time="2025-06-01T01:00:00Z")
    d = envelope(id="d", time="2025-06-01T09:05:00+09:00")
    groups = partition_events([a, b, c, d])
    assert {p: [e.id for e in events] for p, events in groups.items()} == {
        Partition("sensor.reading", 1, "2025-06-01", "00"): ["a", "d"],
        Partition("order.placed", 1, "2025-06-01", "00"): ["b"],
        Partition("sensor.reading", 1, "2025-06-01", "01"): ["c"],
    }


_HOSTILE = [
    "../../etc/passwd",
    "a/b",
    "/",
    "..",
    ".",
    "with space",
    "日本語",
    "%2F..%2F",
    "a\nb",
    "type=x/y",
    "?#&",
]
_KEY_CHARS = re.compile(r"[A-Za-z0-9._~%=/-]+")  # quote() keeps "~" (unreserved in URLs) as it is


def _assert_contained(key: str, type_: str, flush_id: str) -> None:
    parts = key.split("/")
    assert len(parts) == 6, key
    assert [p.split("=")[0] for p in parts[1:5]] == ["type", "version", "dt", "hour"]
    assert parts[0] == "events" and parts[5].endswith(".ndjson.gz")
    assert not {".", ".."} & set(parts)
    assert _KEY_CHARS.fullmatch(key), key
    assert unquote(parts[1].removeprefix("type=")) == type_
    assert unquote(parts[5].removesuffix(".ndjson.gz")) == flush_id


@pytest.mark.parametrize("value", _HOSTILE)
def test_hostile_values_cannot_add_or_climb_segments(value: str) -> None:
    """Slashes, dots, spaces, newlines and non-ASCII in the type or flush id are percent-encoded in place."""
    key = object_key(Partition(value, 1, "2025-06-01", "00"), value)
    _assert_contained(key, value, value)


@given(type_=st.text(), flush_id=st.text())
def test_any_type_and_flush_id_stay_in_their_segment(type_: str, flush_id: str) -> None:
    """For any text, the key has exactly the six segments and decodes back to the values."""
    try:
        type_.encode()
        flush_id.encode()
    except UnicodeEncodeError:  # a lone surrogate cannot be a key at all
        return
    _assert_contained(object_key(Partition(type_, 3, "2025-06-01", "00"), flush_id), type_, flush_id)


def test_encode_then_decode_gives_the_events_back() -> None:
    """An object decodes to the very envelopes encoded, in order, non-ASCII text included."""
    events = [
        envelope(s["type"], s["version"], time=s["time"], data=s["data"], trace="Root=1-00000000-abc")
        for s in all_samples()
    ]
    assert decode(encode(events)) == events


def test_an_object_is_gzip_ndjson_of_the_bus_detail() -> None:
    """One line per envelope, each exactly the envelope's JSON (the bus's ``Detail``), newline-terminated."""
    events = [envelope(s["type"], s["version"]) for s in all_samples()]
    lines = gzip.decompress(encode(events)).decode().split("\n")
    assert lines == [e.model_dump_json() for e in events] + [""]
    assert [detail_type(e.type, e.version) for e in decode(encode(events))] == [e.detail_type for e in events]


def test_decode_ignores_blank_lines() -> None:
    """Blank lines (an empty object, a trailing newline) hold no event."""
    assert decode(encode([])) == []
    line = envelope().model_dump_json().encode()
    assert len(decode(gzip.compress(b"\n" + line + b"\n\n"))) == 1
