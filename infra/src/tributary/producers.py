"""Demo producers, one per seed domain: realistic events as producers would send them to ingest.

- seed 000 (IoT analytics): ``device.registered`` then ``sensor.reading`` from those devices;
- seed 001 (municipal cat data lake): ``cat.sighting``;
- seed 002 (shop ETL): ``order.placed``;
- seed 004 (NBA trade tracker): ``trade.completed``.

Also :func:`invalid_events`: broken events, each with the field ingest must name when it rejects it.
Deterministic for a given seed, so tests and the demo can say exactly what they expect.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

Event = dict[str, Any]

SITES = ["site-tokyo-01", "site-osaka-02", "site-sapporo-03"]
METRICS = [
    ("temperature", "celsius", 18.0, 30.0),
    ("relative_humidity", "percent", 30.0, 80.0),
    ("co2", "ppm", 400.0, 1500.0),
    ("illuminance", "lux", 50.0, 900.0),
]
MUNICIPALITIES = [
    ("131016", "千代田区"),
    ("131041", "新宿区"),
    ("131130", "渋谷区"),
    ("141003", "横浜市"),
    ("271004", "大阪市"),
    ("011002", "札幌市"),
    ("401307", "福岡市"),
    ("472018", "那覇市"),
]
CAT_STATUSES = ["healthy"] * 6 + ["injured", "sick", "kitten", "pregnant"]
PRODUCTS = [("sku-TEA-001", "1200"), ("sku-CUP-010", "3500"), ("sku-POT-003", "8800"), ("sku-BAG-020", "450")]
TEAMS = [
    "BOS",
    "BKN",
    "NYK",
    "PHI",
    "TOR",
    "CHI",
    "CLE",
    "DET",
    "IND",
    "MIL",
    "DAL",
    "LAL",
    "GSW",
    "PHX",
    "DEN",
]


def _at(rng: random.Random, base: datetime) -> str:
    return (base - timedelta(seconds=rng.randint(0, 6 * 3600))).isoformat()


def _event(type_: str, source: str, time: str, data: dict[str, Any]) -> Event:
    return {"type": type_, "version": 1, "source": source, "time": time, "data": data}


def iot_events(rng: random.Random, base: datetime) -> Iterator[Event]:
    """Seed 000: devices register at sites, then report readings."""
    devices = [(f"dev-{i:04d}", SITES[i % len(SITES)]) for i in range(12)]
    for device_id, site_id in devices:
        yield _event(
            "device.registered",
            "iot.registry",
            _at(rng, base),
            {
                "device_id": device_id,
                "site_id": site_id,
                "device_type": "air_quality_sensor",
                "model": "AQ-300",
                "firmware": "1.4.2",
            },
        )
    while True:
        device_id, site_id = rng.choice(devices)
        metric, unit, low, high = rng.choice(METRICS)
        yield _event(
            "sensor.reading",
            f"iot.gateway.{site_id}",
            _at(rng, base),
            {
                "device_id": device_id,
                "site_id": site_id,
                "metric": metric,
                "unit": unit,
                "value": round(rng.uniform(low, high), 2),
            },
        )


def cat_events(rng: random.Random, base: datetime) -> Iterator[Event]:
    """Seed 001: cat sightings reported by municipalities."""
    while True:
        code, name = rng.choice(MUNICIPALITIES)
        yield _event(
            "cat.sighting",
            "municipal.cats.portal",
            _at(rng, base),
            {
                "sighting_id": f"sgt-{rng.getrandbits(40):010x}",
                "cat_id": f"cat-{code}-{rng.randint(1, 60):04d}",
                "municipality_code": code,
                "municipality_name": name,
                "status": rng.choice(CAT_STATUSES),
                "ear_tipped": rng.random() < 0.4,
            },
        )


def shop_events(rng: random.Random, base: datetime) -> Iterator[Event]:
    """Seed 002: orders placed in the shops."""
    while True:
        lines = [(p, rng.randint(1, 4), price) for p, price in rng.sample(PRODUCTS, rng.randint(1, 3))]
        items = [{"product_id": p, "quantity": q, "unit_price": price} for p, q, price in lines]
        total = sum((Decimal(price) * q for _, q, price in lines), Decimal(0))
        yield _event(
            "order.placed",
            "shop.api",
            _at(rng, base),
            {
                "order_id": f"ord-{rng.getrandbits(40):010x}",
                "shop_id": f"shop-{rng.randint(1, 5):02d}",
                "customer_id": f"cus-{rng.randint(1, 400):05d}",
                "currency": "JPY",
                "items": items,
                "total_amount": str(total),
            },
        )


def trade_events(rng: random.Random, base: datetime) -> Iterator[Event]:
    """Seed 004: completed NBA trades, two or three players moving between two teams."""
    while True:
        a, b = rng.sample(TEAMS, 2)
        movements = [
            {
                "player_id": str(rng.randint(200000, 1700000)),
                "player_name": f"Player {rng.randint(1, 999)}",
                "from_team": src,
                "to_team": dst,
            }
            for src, dst in [(a, b), (b, a), (a, b)][: rng.randint(2, 3)]
        ]
        yield _event(
            "trade.completed",
            "nba.trade-tracker",
            _at(rng, base),
            {"trade_id": f"trd-{rng.getrandbits(40):010x}", "season": "2024-25", "movements": movements},
        )


DOMAINS: dict[str, Callable[[random.Random, datetime], Iterator[Event]]] = {
    "iot": iot_events,
    "cats": cat_events,
    "shop": shop_events,
    "trades": trade_events,
}


def domain_events(per_domain: int, *, seed: int = 7, now: datetime | None = None) -> list[Event]:
    """``per_domain`` valid events from each domain, interleaved."""
    rng = random.Random(seed)
    base = now or datetime.now(UTC)
    streams = [gen(rng, base) for gen in DOMAINS.values()]
    return [next(stream) for _ in range(per_domain) for stream in streams]


def invalid_events(count: int, *, seed: int = 11, now: datetime | None = None) -> list[tuple[Event, str]]:
    """``count`` broken events, each with the dotted field (``loc``) a rejection must name."""
    rng = random.Random(seed)
    base = now or datetime.now(UTC)
    valid = domain_events(count, seed=seed, now=base)
    breakers: list[tuple[str, Callable[[Event], None]]] = [
        ("data.value", lambda e: e["data"].__setitem__("value", "hot")),
        ("data.unit", lambda e: e["data"].__setitem__("unit", "fahrenheit")),
        ("data.device_id", lambda e: e["data"].pop("device_id")),
        ("type", lambda e: e.__setitem__("type", "sensor.unknown_kind")),
        ("version", lambda e: e.__setitem__("version", 99)),
        ("time", lambda e: e.__setitem__("time", "yesterday")),
        ("source", lambda e: e.__setitem__("source", "")),
    ]
    readings = [e for e in valid if e["type"] == "sensor.reading"]
    out = []
    for i in range(count):
        event = dict(readings[i % len(readings)], data=dict(readings[i % len(readings)]["data"]))
        loc, breaker = breakers[rng.randrange(len(breakers))]
        breaker(event)
        out.append((event, loc))
    return out
