"""``sensor.reading``: one measurement from one IoT sensor.

Seed 000 (the IoT analytics platform): sensors stream measurements through Kinesis and Lambda into
Timestream; here they reach the time-series store through ``timeseries_writer``. A reading names its
device and site and what was measured (``metric``).

- v1 carries the value and its unit as two flat fields.
- v2 carries them together as a :class:`Quantity` and adds the sensor's own ``quality`` flag. A v1 reading
  upcasts to v2 with ``quality="good"``: v1 had no way to flag a reading, so every consumer took each one as
  good, and the upcast keeps that meaning.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.fields import Identifier
from contracts.registry import contract
from contracts.upcasting import upcaster

Unit = Literal[
    "celsius",
    "percent",
    "pascal",
    "hectopascal",
    "lux",
    "ppm",
    "volt",
    "ampere",
    "watt",
    "kilowatt_hour",
    "meter_per_second",
    "decibel",
    "count",
]

Quality = Literal["good", "uncertain", "bad"]
"""The sensor's own verdict on a reading (OPC UA's three status classes)."""

Metric = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["temperature", "relative_humidity"])
]


@contract("sensor.reading", 1)
class SensorReadingV1(BaseModel):
    """A measurement taken by a device at a site; the event's ``time`` is when it was taken."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: Identifier
    site_id: Identifier
    metric: Metric
    value: float = Field(allow_inf_nan=False)
    unit: Unit


class Quantity(BaseModel):
    """A number and the unit it is counted in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(allow_inf_nan=False)
    unit: Unit


@contract("sensor.reading", 2)
class SensorReadingV2(BaseModel):
    """A measurement taken by a device at a site, with the sensor's quality flag; the event's ``time`` is
    when it was taken."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: Identifier
    site_id: Identifier
    metric: Metric
    quantity: Quantity
    quality: Quality


@upcaster("sensor.reading", 1)
def sensor_reading_v1_to_v2(old: SensorReadingV1) -> SensorReadingV2:
    """``value``/``unit`` become ``quantity``; ``quality`` is ``good`` (see the module docstring)."""
    return SensorReadingV2(
        device_id=old.device_id,
        site_id=old.site_id,
        metric=old.metric,
        quantity=Quantity(value=old.value, unit=old.unit),
        quality="good",
    )
