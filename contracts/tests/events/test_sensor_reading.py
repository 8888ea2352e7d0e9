"""Tests of the ``sensor.reading`` contract."""

from __future__ import annotations

import pytest

from contracts.events.sensor_reading import SensorReadingV1, SensorReadingV2
from contracts.upcasting import upcast_data
from shared.testkit.samples import load_sample
from shared.testkit.validation import error_locs


def test_sample_parses() -> None:
    """The sample reading keeps its value and unit."""
    reading = SensorReadingV1.model_validate(load_sample("sensor.reading", 1)["data"])
    assert (reading.metric, reading.value, reading.unit) == ("temperature", 23.4, "celsius")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("value", float("nan")),
        ("value", float("inf")),
        ("value", "warm"),
        ("unit", "kelvins"),
        ("unit", "Celsius"),
        ("metric", "Temperature"),
        ("metric", "temp reading"),
        ("device_id", ""),
        ("site_id", "site/tokyo"),
    ],
    ids=[
        "nan",
        "inf",
        "not-a-number",
        "unknown-unit",
        "unit-case",
        "metric-case",
        "metric-space",
        "no-device",
        "bad-site",
    ],
)
def test_rejects_bad_field(field: str, value: object) -> None:
    """A bad value is rejected at its field."""
    data = load_sample("sensor.reading", 1)["data"]
    data[field] = value
    assert error_locs(SensorReadingV1, data) == [(field,)]


def test_rejects_unknown_field() -> None:
    """Fields outside the contract are rejected, not dropped."""
    data = load_sample("sensor.reading", 1)["data"]
    data["battery"] = 0.8
    assert error_locs(SensorReadingV1, data) == [("battery",)]


def test_requires_every_field() -> None:
    """A reading without a unit is incomplete."""
    data = load_sample("sensor.reading", 1)["data"]
    del data["unit"]
    assert error_locs(SensorReadingV1, data) == [("unit",)]


def test_v2_sample_parses() -> None:
    """The v2 sample carries its value and unit as a quantity, and a quality flag."""
    reading = SensorReadingV2.model_validate(load_sample("sensor.reading", 2)["data"])
    assert (reading.quantity.value, reading.quantity.unit, reading.quality) == (23.4, "celsius", "good")


@pytest.mark.parametrize(
    ("path", "value"),
    [(("quantity", "unit"), "kelvins"), (("quantity", "value"), float("nan")), (("quality",), "fine")],
    ids=["unknown-unit", "nan", "unknown-quality"],
)
def test_v2_rejects_bad_field(path: tuple[str, ...], value: object) -> None:
    """A bad unit, value or quality is rejected at its field."""
    data = load_sample("sensor.reading", 2)["data"]
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert error_locs(SensorReadingV2, data) == [path]


def test_v1_upcasts_to_the_v2_sample() -> None:
    """The v1 sample upcast is exactly the v2 sample: same quantity, quality ``good``."""
    upcast = upcast_data("sensor.reading", 1, load_sample("sensor.reading", 1)["data"], to=2)
    assert upcast == SensorReadingV2.model_validate(load_sample("sensor.reading", 2)["data"])
