"""``sensor.reading``: one measurement from one IoT sensor.

Seed 000 (the IoT analytics platform): sensors stream measurements through Kinesis and Lambda into
Timestream; here they reach the time-series store through ``timeseries_writer``. A reading names its
device and site, what was measured (``metric``), the value and its unit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.fields import Identifier
from contracts.registry import contract

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


@contract("sensor.reading", 1)
class SensorReadingV1(BaseModel):
    """A measurement taken by a device at a site; the event's ``time`` is when it was taken."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: Identifier
    site_id: Identifier
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["temperature", "relative_humidity"])
    value: float = Field(allow_inf_nan=False)
    unit: Unit
