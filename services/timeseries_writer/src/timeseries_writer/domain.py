"""Pure mapping from contract events to points: which series an event feeds and with what value.

- ``sensor.reading`` v2 → one point of the reading's ``metric``, dimensions ``device`` and ``site``, its
  quantity converted to the canonical unit (:data:`CANONICAL_UNITS`). v1 readings reach the handler
  already upcast to v2 by the runtime (the manifest accepts both), so they are stored the same way.
- ``cat.sighting`` v1 → one point of ``cat.sightings`` (value 1, unit ``count``) with dimensions
  ``municipality`` (the local-government code) and ``status``: ``agg=sum`` counts sightings per bucket.
- ``order.placed`` v1 → ``order.amount`` (the order total, unit = its ISO 4217 currency) and
  ``order.items`` (the number of items, unit ``count``), both with dimensions ``shop`` and ``currency``.

Derived metrics carry a dot, which a sensor's ``metric`` (``^[a-z][a-z0-9_]*$``) cannot, so a sensor can
never write into them. Bad input (a payload that breaks its contract, a non-finite value, a time outside
the accepted window, a unit without a canonical form) raises :class:`~shared.errors.PermanentError` naming
every problem: that event is dead-lettered with the reason and nothing of it is stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from contracts import Envelope, UnknownContractError, validate_data
from contracts.events import CatSightingV1, OrderPlacedV1, SensorReadingV2
from shared.errors import PermanentError
from timeseries_writer.model import Point, epoch_us

CANONICAL_UNITS: dict[str, tuple[str, float]] = {
    "celsius": ("celsius", 1.0),
    "percent": ("percent", 1.0),
    "pascal": ("pascal", 1.0),
    "hectopascal": ("pascal", 100.0),
    "lux": ("lux", 1.0),
    "ppm": ("ppm", 1.0),
    "volt": ("volt", 1.0),
    "ampere": ("ampere", 1.0),
    "watt": ("watt", 1.0),
    "kilowatt_hour": ("kilowatt_hour", 1.0),
    "meter_per_second": ("meter_per_second", 1.0),
    "decibel": ("decibel", 1.0),
    "count": ("count", 1.0),
}
"""Contract unit → (canonical unit, factor): stored value = value x factor. Pressure is stored in pascal
(SI), energy stays in kilowatt-hours (what meters report; joules would make readings unreadably large);
every other contract unit is already the one unit of its quantity."""

CAT_SIGHTINGS = "cat.sightings"
ORDER_AMOUNT = "order.amount"
ORDER_ITEMS = "order.items"


@dataclass(frozen=True, kw_only=True)
class TimeWindow:
    """How far from now an event's time may be: older points fall out of the store's retention (and
    Timestream rejects them), future ones are clock errors."""

    max_past: timedelta = timedelta(days=365)
    max_future: timedelta = timedelta(minutes=15)


def to_points(event: Envelope, *, now: datetime, window: TimeWindow) -> list[Point]:
    """The points ``event`` contributes.

    Raises:
        PermanentError: the event is not a mapped contract, breaks its contract, has a time outside
            ``window`` around ``now``, a unit with no canonical form, or a value that is not finite.
    """
    mapper = _MAPPERS.get((event.type, event.version))
    if mapper is None:
        raise PermanentError(f"timeseries_writer does not map {event.type}.v{event.version}")
    problems = _time_problems(event.time, now=now, window=window)
    try:
        data = validate_data(event.type, event.version, event.data)
    except UnknownContractError as exc:
        raise PermanentError(str(exc)) from exc
    except ValidationError as exc:
        raise PermanentError("; ".join([*problems, *_summarise(exc)])) from exc
    try:
        points = mapper(event, data)
    except ValueError as exc:
        problems.append(str(exc))
        points = []
    problems.extend(
        f"{p.metric}: value {p.value!r} is not a finite number" for p in points if not math.isfinite(p.value)
    )
    if problems:
        raise PermanentError("; ".join(problems))
    return points


def _time_problems(at: datetime, *, now: datetime, window: TimeWindow) -> list[str]:
    if at > now + window.max_future:
        return [f"time: {at.isoformat()} is more than {window.max_future} in the future"]
    if at < now - window.max_past:
        return [f"time: {at.isoformat()} is more than {window.max_past} in the past"]
    return []


def _summarise(exc: ValidationError) -> list[str]:
    return [
        f"data.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else f"data: {e['msg']}"
        for e in exc.errors()[:10]
    ]


def _point(event: Envelope, metric: str, value: float, unit: str, **dimensions: str) -> Point:
    return Point(
        event_id=event.id,
        metric=metric,
        time=event.time,
        value=value,
        unit=unit,
        dimensions=dimensions,
        version=epoch_us(event.time) // 1000,
    )


def _sensor_reading(event: Envelope, data: Any) -> list[Point]:
    reading: SensorReadingV2 = data
    canonical = CANONICAL_UNITS.get(reading.quantity.unit)
    if canonical is None:
        raise ValueError(f"data.quantity.unit: {reading.quantity.unit!r} has no canonical unit")
    unit, factor = canonical
    value = reading.quantity.value * factor
    return [_point(event, reading.metric, value, unit, device=reading.device_id, site=reading.site_id)]


def _cat_sighting(event: Envelope, data: Any) -> list[Point]:
    sighting: CatSightingV1 = data
    dims = {"municipality": sighting.municipality_code, "status": sighting.status}
    return [_point(event, CAT_SIGHTINGS, 1.0, "count", **dims)]


def _order_placed(event: Envelope, data: Any) -> list[Point]:
    order: OrderPlacedV1 = data
    dims = {"shop": order.shop_id, "currency": order.currency}
    items = sum(item.quantity for item in order.items)
    return [
        _point(event, ORDER_AMOUNT, float(order.total_amount), order.currency, **dims),
        _point(event, ORDER_ITEMS, float(items), "count", **dims),
    ]


_MAPPERS: dict[tuple[str, int], Callable[[Envelope, BaseModel], list[Point]]] = {
    ("sensor.reading", 2): _sensor_reading,
    ("cat.sighting", 1): _cat_sighting,
    ("order.placed", 1): _order_placed,
}

MAPPED: tuple[tuple[str, int], ...] = tuple(_MAPPERS)
"""Every ``(type, version)`` this service turns into points: the newest version of each type its manifest
subscribes to (older subscribed versions are upcast to it by the runtime)."""
