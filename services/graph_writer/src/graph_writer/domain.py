"""Pure mapping from relationship events to graph rows; no store, no boto3.

- ``device.registered`` → (Device)-[:LOCATED_AT]->(Site) and the device's attributes;
- ``sensor.reading`` (v2; v1 arrives upcast) → the device's ``last_seen``;
- ``cat.sighting`` → (Cat)-[:SEEN_IN {sighting_id, at, status}]->(Municipality), the cat's latest status;
- ``trade.completed`` → per movement (Player)-[:TRADED_TO {trade_id, at}]->(Team) and
  (Player)-[:LEFT {trade_id, at}]->(Team), the player's current team;
- ``order.placed`` → per line (Customer)-[:PURCHASED {order_id, line}]->(Product).

:func:`rows_of` maps one event; :func:`plan` merges a batch's rows and decides, per entity, which single row
may update its "latest" properties (the store still guards them with the version, so an older event never
rolls state back, whichever batch it arrives in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from contracts import Envelope, validate_data
from contracts.events import (
    CatSightingV1,
    DeviceRegisteredV1,
    OrderPlacedV1,
    SensorReadingV2,
    TradeCompletedV1,
)
from graph_writer.model import (
    CatSighting,
    DevicePlacement,
    DeviceSeen,
    GraphBatch,
    MunicipalityName,
    Order,
    OrderLine,
    PlayerMove,
    Trade,
    Version,
)
from shared.errors import PermanentError
from shared.summaries import validation_summary

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def version_of(event: Envelope) -> Version:
    """The event's version: its ``time`` in epoch milliseconds, tie-broken by its id."""
    return Version(ms=(event.time - _EPOCH) // timedelta(milliseconds=1), event_id=event.id)


def iso_utc(event: Envelope) -> str:
    """The event's ``time`` in UTC as ISO 8601 with milliseconds, sortable as text (``…T00:30:00.000Z``)."""
    return event.time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_text(value: Any, path: str) -> None:
    """Reject text FalkorDB cannot hold (NUL characters; contracts already refuse unpaired surrogates)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise PermanentError(f"{path} contains a NUL character, which the graph store cannot hold")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_text(item, f"{path}.{i}")


def _device_registered(event: Envelope, data: DeviceRegisteredV1) -> GraphBatch:
    placement = DevicePlacement(
        device_id=data.device_id,
        site_id=data.site_id,
        device_type=data.device_type,
        model=data.model,
        firmware=data.firmware,
        lat=data.location.lat if data.location else None,
        lon=data.location.lon if data.location else None,
        at=iso_utc(event),
        version=version_of(event),
    )
    return GraphBatch(placements=(placement,))


def _sensor_reading(event: Envelope, data: SensorReadingV2) -> GraphBatch:
    return GraphBatch(
        seen=(DeviceSeen(device_id=data.device_id, at=iso_utc(event), version=version_of(event)),)
    )


def _cat_sighting(event: Envelope, data: CatSightingV1) -> GraphBatch:
    version = version_of(event)
    sighting = CatSighting(
        sighting_id=data.sighting_id,
        cat_id=data.cat_id,
        municipality_code=data.municipality_code,
        status=data.status,
        ear_tipped=data.ear_tipped,
        at=iso_utc(event),
        version=version,
    )
    names = ()
    if data.municipality_name is not None:
        names = (
            MunicipalityName(
                municipality_code=data.municipality_code, name=data.municipality_name, version=version
            ),
        )
    return GraphBatch(sightings=(sighting,), municipality_names=names)


def _trade_completed(event: Envelope, data: TradeCompletedV1) -> GraphBatch:
    moves = tuple(
        PlayerMove(player_id=m.player_id, player_name=m.player_name, from_team=m.from_team, to_team=m.to_team)
        for m in data.movements
    )
    trade = Trade(
        trade_id=data.trade_id, season=data.season, at=iso_utc(event), version=version_of(event), moves=moves
    )
    return GraphBatch(trades=(trade,))


def _order_placed(event: Envelope, data: OrderPlacedV1) -> GraphBatch:
    lines = tuple(
        OrderLine(line=i, product_id=item.product_id, quantity=item.quantity, unit_price=str(item.unit_price))
        for i, item in enumerate(data.items, start=1)
    )
    order = Order(
        order_id=data.order_id,
        customer_id=data.customer_id,
        shop_id=data.shop_id,
        currency=data.currency,
        at=iso_utc(event),
        lines=lines,
    )
    return GraphBatch(orders=(order,))


_MAPPERS: dict[tuple[str, int], Callable[[Envelope, Any], GraphBatch]] = {
    ("device.registered", 1): _device_registered,
    ("sensor.reading", 2): _sensor_reading,
    ("cat.sighting", 1): _cat_sighting,
    ("trade.completed", 1): _trade_completed,
    ("order.placed", 1): _order_placed,
}

HANDLED: tuple[tuple[str, int], ...] = tuple(_MAPPERS)
"""The ``(type, version)`` pairs graph_writer maps: the newest version of each type its manifest subscribes
to (older subscribed versions are upcast to it by the runtime)."""


def rows_of(event: Envelope) -> GraphBatch:
    """The graph rows one event writes.

    Raises:
        PermanentError: the event is of a type graph_writer does not handle, its data does not satisfy its
            contract, or it holds text the graph store cannot keep (NUL characters).
    """
    mapper = _MAPPERS.get((event.type, event.version))
    if mapper is None:
        raise PermanentError(f"graph_writer does not handle {event.type}.v{event.version}")
    try:
        data: BaseModel = validate_data(event.type, event.version, event.data)
    except ValidationError as exc:  # fields and rules only: the reason goes to DLQ attributes, values do not
        problems = validation_summary(exc, prefix="data")
        raise PermanentError(f"{event.type}.v{event.version} data is invalid: {problems}") from exc
    _check_text(event.data, "data")
    return mapper(event, data)


def _newest[T](rows: Iterable[T], key: Callable[[T], str], version: Callable[[T], Version]) -> list[T]:
    """The newest row per key, in first-seen key order."""
    best: dict[str, T] = {}
    for row in rows:
        k = key(row)
        if k not in best or _order(version(row)) > _order(version(best[k])):
            best[k] = row
    return list(best.values())


def _order(version: Version) -> tuple[int, str]:
    return (version.ms, version.event_id)


def _flag_latest[T](rows: list[T], key: Callable[[T], str], version: Callable[[T], Version]) -> list[T]:
    winners = {id(row) for row in _newest(rows, key, version)}
    return [row if id(row) in winners else replace(row, latest=False) for row in rows]


def _flag_latest_moves(trades: list[Trade]) -> list[Trade]:
    """Per player, only the newest movement (by trade version, then position in the trade) is ``latest``."""
    best: dict[str, tuple[tuple[int, str, int], int, int]] = {}
    for t, trade in enumerate(trades):
        for m, move in enumerate(trade.moves):
            rank = (*_order(trade.version), m)
            current = best.get(move.player_id)
            if current is None or rank > current[0]:
                best[move.player_id] = (rank, t, m)
    winners = {(t, m) for _, t, m in best.values()}
    return [
        replace(
            trade,
            moves=tuple(replace(move, latest=(t, m) in winners) for m, move in enumerate(trade.moves)),
        )
        for t, trade in enumerate(trades)
    ]


def plan(batches: Iterable[GraphBatch]) -> GraphBatch:
    """One batch out of many events' rows: ``latest`` decided per entity, device sightings reduced to the
    newest per device and municipality names to the newest per municipality."""
    parts = list(batches)

    def gather[T](pick: Callable[[GraphBatch], tuple[T, ...]]) -> list[T]:
        return [row for part in parts for row in pick(part)]

    return GraphBatch(
        placements=tuple(
            _flag_latest(gather(lambda b: b.placements), lambda r: r.device_id, lambda r: r.version)
        ),
        seen=tuple(_newest(gather(lambda b: b.seen), lambda r: r.device_id, lambda r: r.version)),
        sightings=tuple(_flag_latest(gather(lambda b: b.sightings), lambda r: r.cat_id, lambda r: r.version)),
        municipality_names=tuple(
            _newest(
                gather(lambda b: b.municipality_names), lambda r: r.municipality_code, lambda r: r.version
            )
        ),
        trades=tuple(_flag_latest_moves(gather(lambda b: b.trades))),
        orders=tuple(gather(lambda b: b.orders)),
    )
