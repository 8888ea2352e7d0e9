"""Tests of the upcaster registry and of upcasting envelopes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts import Envelope, UpcastError, has_upcaster, upcast_data, upcast_envelope, upcaster
from shared.testkit.envelopes import envelope
from shared.testkit.samples import load_sample


def test_sensor_reading_has_an_upcaster_from_v1_only() -> None:
    """v1 → v2 is registered; nothing upcasts past the newest version."""
    assert has_upcaster("sensor.reading", 1)
    assert not has_upcaster("sensor.reading", 2)


def test_upcast_envelope_changes_version_and_data_only() -> None:
    """The upcast envelope keeps id, time, source and trace; its data is the v2 shape."""
    old = envelope("sensor.reading", 1)
    new = upcast_envelope(old, to=2)
    assert (new.id, new.time, new.source, new.trace, new.version) == (
        old.id,
        old.time,
        old.source,
        old.trace,
        2,
    )
    assert new.data["quantity"] == {"value": old.data["value"], "unit": old.data["unit"]}
    assert Envelope.model_validate(new.model_dump()) == new


def test_upcast_to_the_same_version_is_the_envelope_itself() -> None:
    old = envelope("sensor.reading", 2)
    assert upcast_envelope(old, to=2) is old


def test_invalid_old_data_is_refused_naming_the_field() -> None:
    """Bad v1 data fails validation at its field before any upcaster runs."""
    data = load_sample("sensor.reading", 1)["data"] | {"value": "hot"}
    with pytest.raises(ValidationError, match="value"):
        upcast_data("sensor.reading", 1, data, to=2)


def test_missing_step_and_downcast_are_refused() -> None:
    """No chain past the newest version, and never backwards."""
    with pytest.raises(UpcastError, match=r"no upcaster from sensor\.reading\.v2 to v3"):
        upcast_data("sensor.reading", 2, load_sample("sensor.reading", 2)["data"], to=3)
    with pytest.raises(UpcastError, match="cannot downcast"):
        upcast_data("sensor.reading", 2, load_sample("sensor.reading", 2)["data"], to=1)


def test_registering_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        upcaster("sensor.reading", 1)(lambda old: old)
