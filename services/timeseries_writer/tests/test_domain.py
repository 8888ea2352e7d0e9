"""Tests of the pure mapping from events to points, and of its rejection of bad input."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

import pytest

from contracts import Envelope
from shared.errors import PermanentError
from shared.testkit.envelopes import envelope
from shared.testkit.samples import load_sample
from timeseries_writer.domain import CANONICAL_UNITS, MAPPED, TimeWindow, to_points
from timeseries_writer.model import DIMENSIONS, Point

from .conftest import NOW

WINDOW = TimeWindow(max_past=timedelta(days=365), max_future=timedelta(minutes=15))


def _data(**quantity: Any) -> dict[str, Any]:
    """The v2 sample's data, its quantity's fields replaced by ``quantity``."""
    data = load_sample("sensor.reading", 2)["data"]
    data["quantity"] |= quantity
    return data


def _reading(*, metric: str = "temperature", **quantity: Any) -> Envelope:
    return envelope("sensor.reading", 2, data=_data(**quantity) | {"metric": metric})


def _points(event: Envelope) -> list[Point]:
    return to_points(event, now=NOW, window=WINDOW)


def test_a_reading_is_one_point_of_its_device_and_site_series() -> None:
    """``sensor.reading`` → one point named for its metric, dimensions device and site, at the event time."""
    event = _reading()
    [point] = _points(event)
    assert point == Point(
        event_id=event.id,
        metric="temperature",
        time=event.time,
        value=23.4,
        unit="celsius",
        dimensions={"device": "dev-0042", "site": "site-tokyo-01"},
        version=1748737800000,  # 2025-06-01T00:30:00Z in ms: the event's time, never the wall clock
    )


@pytest.mark.parametrize(
    ("unit", "value", "stored_unit", "stored_value"),
    [
        ("hectopascal", 1013.25, "pascal", 101325.0),
        ("pascal", 101325.0, "pascal", 101325.0),
        ("kilowatt_hour", 12.5, "kilowatt_hour", 12.5),
        ("celsius", -4.5, "celsius", -4.5),
        ("percent", 55.0, "percent", 55.0),
        ("ppm", 812.0, "ppm", 812.0),
        ("watt", 0.0, "watt", 0.0),
    ],
)
def test_units_are_normalised_to_one_per_quantity(
    unit: str, value: float, stored_unit: str, stored_value: float
) -> None:
    """Pressure is stored in pascal; energy stays in kilowatt-hours; other units are their quantity's one."""
    [point] = _points(_reading(unit=unit, value=value))
    assert (point.unit, point.value) == (stored_unit, pytest.approx(stored_value))


def test_every_contract_unit_has_a_canonical_form() -> None:
    """The conversion table covers exactly the units the contract allows."""
    from contracts.events.sensor_reading import Unit

    assert set(CANONICAL_UNITS) == set(Unit.__args__)


def test_a_cat_sighting_counts_one_per_municipality_and_status() -> None:
    """``cat.sighting`` → ``cat.sightings`` = 1 with the municipality code and the cat's status."""
    event = envelope("cat.sighting")
    [point] = _points(event)
    assert (point.metric, point.value, point.unit) == ("cat.sightings", 1.0, "count")
    assert point.dimensions == {"municipality": "131041", "status": "healthy"}


def test_an_order_gives_its_amount_and_its_item_count_per_shop() -> None:
    """``order.placed`` → ``order.amount`` in its currency and ``order.items`` (2 + 1 items), per shop."""
    event = envelope("order.placed")
    points = {p.metric: p for p in _points(event)}
    assert set(points) == {"order.amount", "order.items"}
    assert (points["order.amount"].value, points["order.amount"].unit) == (5900.0, "JPY")
    assert (points["order.items"].value, points["order.items"].unit) == (3.0, "count")
    assert all(p.dimensions == {"shop": "shop-01", "currency": "JPY"} for p in points.values())


def test_every_dimension_used_is_a_known_one() -> None:
    """The read API filters on DIMENSIONS: every mapped point uses only those."""
    for type_, version in MAPPED:
        for point in _points(envelope(type_, version)):
            assert set(point.dimensions) <= set(DIMENSIONS)


def test_derived_metrics_cannot_be_written_by_a_sensor() -> None:
    """A sensor naming its metric ``cat.sightings`` breaks the contract's metric pattern."""
    with pytest.raises(PermanentError, match=r"data\.metric"):
        _points(_reading(metric="cat.sightings"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"value": math.nan}, r"data\.quantity\.value: Input should be a finite number"),
        ({"value": math.inf}, r"data\.quantity\.value: Input should be a finite number"),
        ({"value": -math.inf}, r"data\.quantity\.value: Input should be a finite number"),
        ({"unit": None}, r"data\.quantity\.unit: Input should be"),
        ({"unit": "fahrenheit"}, r"data\.quantity\.unit: Input should be"),
        ({"value": "hot"}, r"data\.quantity\.value: Input should be a valid number"),
        ({"value": 1e307, "unit": "hectopascal"}, r"temperature: value inf is not a finite number"),
    ],
    ids=["nan", "inf", "-inf", "null-unit", "unknown-unit", "text-value", "overflow-on-conversion"],
)
def test_bad_values_and_units_are_rejected_with_the_field(data: dict[str, Any], reason: str) -> None:
    """Non-finite values, bad or missing units and conversions that overflow raise PermanentError."""
    with pytest.raises(PermanentError, match=reason):
        _points(_reading(**data))


def test_an_absent_unit_is_rejected() -> None:
    """A reading without ``unit`` names the missing field."""
    data = _data()
    del data["quantity"]["unit"]
    with pytest.raises(PermanentError, match=r"data\.quantity\.unit: Field required"):
        _points(envelope("sensor.reading", 2, data=data))


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (timedelta(minutes=15), True),
        (timedelta(minutes=15, seconds=1), False),
        (-timedelta(days=365), True),
        (-timedelta(days=365, seconds=1), False),
        (timedelta(days=3650), False),
        (-timedelta(days=3650), False),
    ],
    ids=["future-edge", "future-beyond", "past-edge", "past-beyond", "far-future", "far-past"],
)
def test_times_outside_the_window_are_rejected(offset: timedelta, ok: bool) -> None:
    """Up to 15 min ahead and 365 days back is accepted; beyond either edge is a PermanentError."""
    event = envelope("sensor.reading", 2, time=(NOW + offset).isoformat())
    if ok:
        assert len(_points(event)) == 1
    else:
        with pytest.raises(PermanentError, match=r"^time: .* in the (future|past)$"):
            _points(event)


def test_the_window_is_configurable() -> None:
    """A tighter window rejects what the default accepts."""
    event = envelope("sensor.reading", 2, time=(NOW - timedelta(hours=2)).isoformat())
    with pytest.raises(PermanentError, match="past"):
        to_points(event, now=NOW, window=TimeWindow(max_past=timedelta(hours=1)))


def test_every_problem_is_named_at_once() -> None:
    """A far-future reading with a NaN value and no unit names all three."""
    data = _data(value=math.nan)
    del data["quantity"]["unit"]
    event = envelope("sensor.reading", 2, time="2099-01-01T00:00:00Z", data=data)
    with pytest.raises(PermanentError) as caught:
        _points(event)
    message = str(caught.value)
    assert "time: 2099-01-01" in message
    assert "data.quantity.value" in message and "data.quantity.unit" in message


@pytest.mark.parametrize(("type_", "version"), [("device.registered", 1), ("trade.completed", 1)])
def test_events_that_carry_no_measurement_are_rejected(type_: str, version: int) -> None:
    """An event type the service does not map (a wrong subscription) is a PermanentError naming it."""
    with pytest.raises(PermanentError, match=re.escape(f"does not map {type_}.v{version}")):
        _points(envelope(type_, version))


@pytest.mark.parametrize("version", [1, 3])
def test_versions_other_than_the_newest_are_rejected(version: int) -> None:
    """Only v2 is mapped: the runtime upcasts v1 before the handler, and v3 does not exist."""
    with pytest.raises(PermanentError, match=rf"does not map sensor\.reading\.v{version}"):
        _points(envelope("sensor.reading", 2).model_copy(update={"version": version}))
