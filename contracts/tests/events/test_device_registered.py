"""Tests of the ``device.registered`` contract."""

from __future__ import annotations

import pytest

from contracts.events.device_registered import DeviceRegisteredV1
from contracts.fields import GeoPoint
from shared.testkit.samples import load_sample
from shared.testkit.validation import error_locs


def test_sample_parses() -> None:
    """The sample device keeps its location."""
    device = DeviceRegisteredV1.model_validate(load_sample("device.registered", 1)["data"])
    assert device.location == GeoPoint(lat=35.6895, lon=139.6917)


def test_optional_fields_may_be_left_out() -> None:
    """Model, firmware and location are optional."""
    data = load_sample("device.registered", 1)["data"]
    for field in ("model", "firmware", "location"):
        del data[field]
    device = DeviceRegisteredV1.model_validate(data)
    assert (device.model, device.firmware, device.location) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("device_type", "toaster", ("device_type",)),
        ("firmware", "v 2.3", ("firmware",)),
        ("model", "", ("model",)),
        ("location", {"lat": 135.7, "lon": 35.0}, ("location", "lat")),
        ("location", {"lat": 35.0}, ("location", "lon")),
        ("tags", ["roof"], ("tags",)),
    ],
    ids=["unknown-type", "firmware-space", "empty-model", "lat-lon-swapped", "no-lon", "extra-field"],
)
def test_rejects_bad_field(field: str, value: object, loc: tuple[str, ...]) -> None:
    """A bad value is rejected at its field, nested fields included."""
    data = load_sample("device.registered", 1)["data"]
    data[field] = value
    assert error_locs(DeviceRegisteredV1, data) == [loc]
