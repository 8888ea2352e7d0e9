"""``device.registered``: a device joined the platform at a site.

Seed 000 (the IoT analytics platform): devices, sites and their relationships live in Neptune; here the
graph store keeps them through ``graph_writer`` (a ``(device)-[:INSTALLED_AT]->(site)`` edge). Registering
a device again updates its attributes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.fields import GeoPoint, Identifier, Text
from contracts.registry import contract

DeviceType = Literal[
    "temperature_sensor",
    "humidity_sensor",
    "air_quality_sensor",
    "light_sensor",
    "motion_sensor",
    "power_meter",
    "gateway",
]


@contract("device.registered", 1)
class DeviceRegisteredV1(BaseModel):
    """A device and where it is installed; ``model``, ``firmware`` and ``location`` are optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: Identifier
    site_id: Identifier
    device_type: DeviceType
    model: Text | None = Field(default=None, min_length=1, max_length=128)
    firmware: str | None = Field(default=None, pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_\-]{0,63}$")
    location: GeoPoint | None = None
