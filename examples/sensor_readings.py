"""Seed 000 (IoT analytics): a gateway publishes sensor readings, ``sensor.reading`` v2."""

from __future__ import annotations

from _local import publish

from contracts.events import Quantity, SensorReadingV2
from tributary_sdk import Event

readings = [
    SensorReadingV2(
        device_id=f"dev-{n:04d}",
        site_id="site-tokyo-01",
        metric=metric,
        quantity=Quantity(value=value, unit=unit),
        quality="good",
    )
    for n, (metric, value, unit) in enumerate(
        [
            ("temperature", 23.4, "celsius"),
            ("relative_humidity", 61.0, "percent"),
            ("pressure", 1013.2, "hectopascal"),
        ]
    )
]

if __name__ == "__main__":
    publish("iot.gateway.tokyo-01", [Event(type="sensor.reading", version=2, data=r) for r in readings])
