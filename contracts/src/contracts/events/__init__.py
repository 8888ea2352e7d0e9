"""The data models of every event contract, one module per event type.

Importing this package registers each model with :mod:`contracts.registry`; a new contract module must be
imported here.
"""

from __future__ import annotations

from contracts.events.cat_sighting import CatSightingV1
from contracts.events.device_registered import DeviceRegisteredV1
from contracts.events.ops_dlq_depth import OpsDlqDepthV1
from contracts.events.order_placed import OrderItem, OrderPlacedV1
from contracts.events.sensor_reading import Quantity, SensorReadingV1, SensorReadingV2
from contracts.events.trade_completed import PlayerMovement, TradeCompletedV1

__all__ = [
    "CatSightingV1",
    "DeviceRegisteredV1",
    "OpsDlqDepthV1",
    "OrderItem",
    "OrderPlacedV1",
    "PlayerMovement",
    "Quantity",
    "SensorReadingV1",
    "SensorReadingV2",
    "TradeCompletedV1",
]
