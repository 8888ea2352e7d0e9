"""Tests of the pure mapping from events to graph rows, and of how a batch is planned."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import Envelope
from graph_writer.domain import HANDLED, iso_utc, plan, rows_of, version_of
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
from shared.testkit.envelopes import envelope
from shared.testkit.samples import load_sample

from .builders import reading, registered, sighting, trade


def _sample(type_: str) -> Envelope:
    version = dict(HANDLED)[type_]
    sample = load_sample(type_, version)
    return envelope(type_, version, id=sample["id"], time=sample["time"])


def _v(type_: str) -> Version:
    sample = _sample(type_)
    return Version(ms=int(sample.time.timestamp() * 1000), event_id=sample.id)


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        (
            "device.registered",
            GraphBatch(
                placements=(
                    DevicePlacement(
                        device_id="dev-0042",
                        site_id="site-tokyo-01",
                        device_type="temperature_sensor",
                        model="TS-200",
                        firmware="2.3.1",
                        lat=35.6895,
                        lon=139.6917,
                        at="2025-06-01T01:02:00.000Z",
                        version=_v("device.registered"),
                    ),
                )
            ),
        ),
        (
            "sensor.reading",
            GraphBatch(
                seen=(
                    DeviceSeen(
                        device_id="dev-0042", at="2025-06-01T00:30:00.000Z", version=_v("sensor.reading")
                    ),
                )
            ),
        ),
        (
            "cat.sighting",
            GraphBatch(
                sightings=(
                    CatSighting(
                        sighting_id="sgt-20250601-0007",
                        cat_id="cat-shinjuku-0107",
                        municipality_code="131041",
                        status="healthy",
                        ear_tipped=True,
                        at="2025-06-01T05:05:11.000Z",
                        version=_v("cat.sighting"),
                    ),
                ),
                municipality_names=(
                    MunicipalityName(municipality_code="131041", name="新宿区", version=_v("cat.sighting")),
                ),
            ),
        ),
        (
            "trade.completed",
            GraphBatch(
                trades=(
                    Trade(
                        trade_id="trd-2024-25-0042",
                        season="2024-25",
                        at="2025-02-02T17:00:00.000Z",
                        version=_v("trade.completed"),
                        moves=(
                            PlayerMove(
                                player_id="1629029", player_name="Luka Dončić", from_team="DAL", to_team="LAL"
                            ),
                            PlayerMove(
                                player_id="203076",
                                player_name="Anthony Davis",
                                from_team="LAL",
                                to_team="DAL",
                            ),
                        ),
                    ),
                )
            ),
        ),
        (
            "order.placed",
            GraphBatch(
                orders=(
                    Order(
                        order_id="ord-100234",
                        customer_id="cus-5521",
                        shop_id="shop-01",
                        currency="JPY",
                        at="2025-06-02T02:20:45.000Z",
                        lines=(
                            OrderLine(line=1, product_id="sku-TEA-001", quantity=2, unit_price="1200"),
                            OrderLine(line=2, product_id="sku-CUP-010", quantity=1, unit_price="3500"),
                        ),
                    ),
                )
            ),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_contract_maps_to_its_rows(type_: str, expected: GraphBatch) -> None:
    """The sample event of each handled contract becomes exactly the documented rows."""
    assert rows_of(_sample(type_)) == expected


def test_every_handled_contract_has_a_sample() -> None:
    """graph_writer maps the newest version of the five relationship contracts."""
    assert sorted(HANDLED) == [
        ("cat.sighting", 1),
        ("device.registered", 1),
        ("order.placed", 1),
        ("sensor.reading", 2),
        ("trade.completed", 1),
    ]


@pytest.mark.parametrize(
    ("time", "ms", "iso"),
    [
        ("2025-06-01T09:30:00+09:00", 1748737800000, "2025-06-01T00:30:00.000Z"),
        ("2025-06-01T00:30:00Z", 1748737800000, "2025-06-01T00:30:00.000Z"),
        ("2025-06-01T00:30:00.123456Z", 1748737800123, "2025-06-01T00:30:00.123Z"),
        ("1970-01-01T09:00:00.001+09:00", 1, "1970-01-01T00:00:00.001Z"),
    ],
)
def test_versions_and_times_are_the_event_time_in_utc(time: str, ms: int, iso: str) -> None:
    """The version is epoch milliseconds of the event's own time; stored times are UTC ISO strings."""
    event = envelope(time=time, id="e-1")
    assert version_of(event) == Version(ms=ms, event_id="e-1")
    assert iso_utc(event) == iso


@pytest.mark.parametrize(
    ("type_", "version", "data", "message"),
    [
        ("archive.note", 1, {}, "does not handle archive.note.v1"),
        ("sensor.reading", 1, {}, "does not handle sensor.reading.v1"),  # the runtime upcasts it first
        ("trade.completed", 1, {"trade_id": "t"}, "trade.completed.v1 data is invalid"),
        ("cat.sighting", 1, {"municipality_code": "999999"}, "cat.sighting.v1 data is invalid"),
    ],
)
def test_events_it_cannot_map_are_permanent_failures(
    type_: str, version: int, data: dict[str, Any], message: str
) -> None:
    """Unknown types or versions and data that breaks the contract fail permanently, with the reason."""
    event = Envelope.model_validate(
        envelope().model_dump() | {"type": type_, "version": version, "data": data}
    )
    with pytest.raises(PermanentError, match=message):
        rows_of(event)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("player_name", "Nul\x00Player", r"(?s)movements\.0\.player_name.*control characters"),
        ("player_name", "bad \ud800 surrogate", r"(?s)data is invalid.*movements\.0\.player_name"),
    ],
)
def test_text_no_store_can_hold_is_refused_with_its_field(field: str, value: str, message: str) -> None:
    """NUL characters and unpaired surrogates are permanent failures naming the field."""
    event = trade("t1", ("p1", "LAL", "BOS"))
    data = event.data | {"movements": [event.data["movements"][0] | {field: value}]}
    with pytest.raises(PermanentError, match=message):
        rows_of(Envelope.model_validate(event.model_dump() | {"data": data}))


def test_hostile_but_storable_text_passes_unchanged() -> None:
    """Quotes, backticks, braces and Cypher keywords are ordinary text to the mapping."""
    name = 'O\'Neal `x` {y} "z" MATCH (n) DETACH DELETE n'
    event = trade("t1", ("p1", "LAL", "BOS"))
    data = event.data | {"movements": [event.data["movements"][0] | {"player_name": name}]}
    batch = rows_of(Envelope.model_validate(event.model_dump() | {"data": data}))
    assert batch.trades[0].moves[0].player_name == name


def test_plan_marks_the_newest_registration_of_each_device_latest() -> None:
    """Per device one row is ``latest``: the newest time, then the larger event id."""
    a = registered("d1", "s1", 10, id="A")
    b = registered("d1", "s2", 20, id="B")
    c = registered("d1", "s3", 20, id="C")
    d = registered("d2", "s1", 5, id="D")
    batch = plan(rows_of(e) for e in [a, c, b, d])
    assert [(p.site_id, p.latest) for p in batch.placements] == [
        ("s1", False),
        ("s3", True),
        ("s2", False),
        ("s1", True),
    ]


def test_plan_keeps_only_the_newest_reading_per_device() -> None:
    """Readings only move ``last_seen``: one row per device, the newest."""
    batch = plan(rows_of(e) for e in [reading("d1", 5), reading("d1", 9), reading("d2", 1), reading("d1", 7)])
    assert [(s.device_id, s.at) for s in batch.seen] == [
        ("d1", "2025-06-01T00:09:00.000Z"),
        ("d2", "2025-06-01T00:01:00.000Z"),
    ]


def test_plan_flags_cats_and_keeps_the_newest_name_per_municipality() -> None:
    """Every sighting stays (each is an edge); the cat's newest is ``latest``; one name per municipality."""
    events = [
        sighting("s1", "c1", 10, name="新宿区"),
        sighting("s2", "c1", 30, name=None),
        sighting("s3", "c2", 20, name="新宿区 (new)"),
    ]
    batch = plan(rows_of(e) for e in events)
    assert [(s.sighting_id, s.latest) for s in batch.sightings] == [("s1", False), ("s2", True), ("s3", True)]
    assert [n.name for n in batch.municipality_names] == ["新宿区 (new)"]


def test_plan_flags_the_newest_movement_of_each_player_across_trades() -> None:
    """By trade time, then event id, then position in the trade."""
    old = trade("t1", ("p1", "DAL", "LAL"), ("p2", "LAL", "DAL"), minute=10, id="A")
    new = trade("t2", ("p1", "LAL", "BOS"), ("p1", "BOS", "NYK"), minute=20, id="B")
    batch = plan(rows_of(e) for e in [new, old])
    flags = [(t.trade_id, m.player_id, m.to_team, m.latest) for t in batch.trades for m in t.moves]
    assert flags == [
        ("t2", "p1", "BOS", False),
        ("t2", "p1", "NYK", True),
        ("t1", "p1", "LAL", False),
        ("t1", "p2", "DAL", True),
    ]


def test_plan_of_nothing_is_an_empty_batch() -> None:
    """No events, no rows."""
    assert len(plan([])) == 0
