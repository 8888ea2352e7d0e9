"""Event builders for graph_writer's tests: valid envelopes of each contract with just the fields a test
cares about, and the batch they plan to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contracts import Envelope, new_event_id
from graph_writer.domain import plan, rows_of
from graph_writer.model import GraphBatch
from shared.testkit.envelopes import envelope

T0 = "2025-06-01T00:00:00Z"


def _at(minute: int) -> str:
    return f"2025-06-01T{minute // 60:02d}:{minute % 60:02d}:00Z"


def registered(device: str, site: str, minute: int = 0, *, id: str | None = None, **data: Any) -> Envelope:
    body = {"device_id": device, "site_id": site, "device_type": "temperature_sensor"} | data
    return envelope("device.registered", id=id or new_event_id(), time=_at(minute), data=body)


def reading(device: str, minute: int = 0, *, site: str = "site-1") -> Envelope:
    quantity = {"value": 21.5, "unit": "celsius"}
    body = {
        "device_id": device,
        "site_id": site,
        "metric": "temperature",
        "quantity": quantity,
        "quality": "good",
    }
    return envelope("sensor.reading", 2, time=_at(minute), data=body)


def sighting(
    sighting_id: str,
    cat: str,
    minute: int = 0,
    *,
    code: str = "131041",
    name: str | None = "新宿区",
    status: str = "healthy",
    id: str | None = None,
) -> Envelope:
    body: dict[str, Any] = {
        "sighting_id": sighting_id,
        "cat_id": cat,
        "municipality_code": code,
        "status": status,
    }
    if name is not None:
        body["municipality_name"] = name
    return envelope("cat.sighting", id=id or new_event_id(), time=_at(minute), data=body)


def trade(trade_id: str, *moves: tuple[str, str, str], minute: int = 0, id: str | None = None) -> Envelope:
    """``moves`` as (player_id, from_team, to_team); names are ``Player <id>``."""
    movements = [
        {"player_id": p, "player_name": f"Player {p}", "from_team": f, "to_team": t} for p, f, t in moves
    ]
    body = {"trade_id": trade_id, "season": "2024-25", "movements": movements}
    return envelope("trade.completed", id=id or new_event_id(), time=_at(minute), data=body)


def order(order_id: str, customer: str, *lines: tuple[str, int, str], minute: int = 0) -> Envelope:
    """``lines`` as (product_id, quantity, unit_price)."""
    items = [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in lines]
    total = sum(q * float(u) for _, q, u in lines)
    body = {
        "order_id": order_id,
        "shop_id": "shop-01",
        "customer_id": customer,
        "currency": "JPY",
        "items": items,
        "total_amount": f"{total:.0f}",
    }
    return envelope("order.placed", time=_at(minute), data=body)


def batch_of(events: Iterable[Envelope]) -> GraphBatch:
    """The planned batch of ``events``."""
    return plan(rows_of(e) for e in events)
