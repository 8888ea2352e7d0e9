"""Tests of the field types shared by contracts."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from contracts.fields import EventTime, GeoPoint, Text
from shared.testkit.validation import error_locs


def test_geopoint_accepts_the_extremes() -> None:
    """The poles and the antimeridian are valid positions."""
    assert GeoPoint(lat=-90, lon=180) == GeoPoint(lat=-90.0, lon=180.0)


@pytest.mark.parametrize(
    ("point", "loc"),
    [
        ({"lat": 90.5, "lon": 0}, ("lat",)),
        ({"lat": 0, "lon": -180.1}, ("lon",)),
        ({"lat": float("nan"), "lon": 0}, ("lat",)),
        ({"lat": 0, "lon": float("inf")}, ("lon",)),
        ({"lat": 0, "lon": 0, "alt": 40}, ("alt",)),
    ],
    ids=["lat-out-of-range", "lon-out-of-range", "nan", "inf", "extra-field"],
)
def test_geopoint_rejects_impossible_positions(point: dict[str, float], loc: tuple[str]) -> None:
    """Out-of-range, non-finite and unknown coordinates are rejected at their field."""
    assert error_locs(GeoPoint, point) == [loc]


class _Named(BaseModel):
    name: Text
    at: EventTime | None = None


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "line\n", "del\x7f", "c1\x85", "s\ud800"])
def test_text_refuses_control_characters_and_lone_surrogates(name: str) -> None:
    """NUL, other C0/C1 controls, DEL and lone surrogates are a field error, not a store's problem later."""
    assert error_locs(_Named, {"name": name}) == [("name",)]


def test_text_takes_any_printable_unicode() -> None:
    """Names in any script, with spaces and symbols, are free text."""
    assert _Named(name="三毛 (Mike) — ☆").name == "三毛 (Mike) — ☆"


@pytest.mark.parametrize(
    "at",
    [
        "1970-01-01T00:00:00Z",
        "1970-01-01T09:00:00+09:00",
        "2099-12-31T23:59:59.999999Z",
        "2100-01-01T08:59:59+09:00",
        "2025-06-01t09:30:00.123456789z",
    ],
)
def test_event_time_takes_rfc3339_within_1970_to_2099_utc(at: str) -> None:
    """Both ends of the range, any offset, lower-case separators and nanoseconds are valid."""
    assert _Named.model_validate({"name": "n", "at": at}).at is not None


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:30:00+01:00",  # no UTC time exists (OverflowError in astimezone)
        "9999-12-31T23:30:00-05:00",
        "1969-12-31T23:59:59Z",
        "1970-01-01T08:59:59+09:00",
        "2100-01-01T00:00:00Z",
        "2025-06-01T09:30:00",  # no offset
        "2025-06-01 09:30:00Z",
        "2025-06-01T09:30Z",
        "2025-06-01T09:30:00+0900",
        "2025-02-30T00:00:00Z",
        "1748737800",
        1748737800,
        True,
    ],
)
def test_event_time_refuses_anything_else_at_its_field(at: object) -> None:
    """An out-of-range, unconvertible or non-RFC 3339 time is a field error, never an OverflowError."""
    assert error_locs(_Named, {"name": "n", "at": at}) == [("at",)]
