"""Tests of the field types shared by contracts."""

from __future__ import annotations

import pytest

from contracts.fields import GeoPoint
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
