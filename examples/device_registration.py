"""Seed 000 (IoT analytics): devices announce themselves and where they stand, ``device.registered`` v1."""

from __future__ import annotations

from _local import publish

from contracts.events import DeviceRegisteredV1
from contracts.fields import GeoPoint
from tributary_sdk import Event

devices = [
    DeviceRegisteredV1(
        device_id=f"dev-{n:04d}",
        site_id="site-tokyo-01",
        device_type="temperature_sensor",
        model="TS-200",
        firmware="2.3.1",
        location=GeoPoint(lat=35.6895, lon=139.6917),
    )
    for n in range(3)
]

if __name__ == "__main__":
    publish("iot.registry", [Event(type="device.registered", version=1, data=d) for d in devices])
