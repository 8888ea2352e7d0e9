"""The Glue tables and Athena views derived from the table descriptions, checked against the archive."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from archiver.domain import Partition, encode, object_key, partition_of
from contracts.tables import contract_tables
from tributary.lake.conformance import Conformance, check_archive, parse_hive_type
from tributary.lake.glue import database_name, presto_view_text, raw_columns, storage_prefix, views

from .conftest import BUCKET, Archive


def _table(name: str) -> Any:
    return next(t for t in contract_tables() if t.name == name)


def test_the_demo_archive_conforms_to_every_glue_table(archive: Archive) -> None:
    """Every line the demo archives reads with the declared columns, types and SerDe rules, and every
    view cast succeeds."""
    checks, orphans = check_archive(archive.s3, BUCKET)
    assert orphans == []
    assert {name for name, c in checks.items() if c.lines} == {
        "cat_sighting_v1",
        "device_registered_v1",
        "order_placed_v1",
        "sensor_reading_v1",
        "trade_completed_v1",
    }
    assert sum(c.lines for c in checks.values()) == len(archive.events)
    assert {name: c.problems for name, c in checks.items()} == {name: [] for name in checks}


def test_mismatches_are_named(s3: Any) -> None:
    """A line whose value the SerDe would mis-read, a key the table does not declare, a decimal the view
    cannot cast, and a partition outside the projection are each reported."""
    table = _table("order_placed_v1")
    check = Conformance(table=table)
    good = {
        "id": "01J0000000000000000000000A",
        "type": "order.placed",
        "version": 1,
        "source": "shop.api",
        "time": "2026-12-06T10:00:00Z",
        "ingested_at": "2026-12-06T10:00:01Z",
        "data": {
            "order_id": "o-1",
            "shop_id": "s-1",
            "customer_id": "c-1",
            "currency": "JPY",
            "items": [{"product_id": "p-1", "quantity": 2, "unit_price": "10.5"}],
            "total_amount": "21.0",
        },
    }
    partition = Partition("order.placed", 1, "2026-12-06", "10")
    key = object_key(partition, "f")
    check.check_key(key, partition)
    check.check_line(key, json.dumps(good).encode(), partition)
    assert check.problems == []
    bad = json.loads(json.dumps(good))
    bad["id"] = "01J0000000000000000000000B"
    bad["data"]["items"][0]["quantity"] = "2"
    bad["data"]["coupon"] = "X"
    bad["data"]["total_amount"] = "21.00001"
    check.check_line(key, json.dumps(bad).encode(), partition)
    old = Partition("order.placed", 1, "1969-12-31", "24")
    check.check_key(object_key(old, "f"), old)
    text = "\n".join(check.problems)
    assert "data.items[0].quantity: declared bigint" in text
    assert "data.coupon: in the archive, not declared" in text
    assert "the view cannot type it" in text
    assert "before the projection's range" in text
    assert "hour=24 is not a projected hour" in text


def test_an_object_of_an_unknown_contract_is_an_orphan(archive: Archive) -> None:
    event = archive.events[0]
    stray = Partition("thing.unknown", 1, partition_of(event).dt, partition_of(event).hour)
    archive.s3.put_object(Bucket=BUCKET, Key=object_key(stray, "f"), Body=encode([event]))
    archive.s3.put_object(
        Bucket=BUCKET, Key=object_key(partition_of(event), "plain"), Body=gzip.compress(b"not json\n")
    )
    checks, orphans = check_archive(archive.s3, BUCKET)
    assert orphans == [f"{object_key(stray, 'f')}: no lake table for thing.unknown.v1"]
    assert any("not JSON" in p for c in checks.values() for p in c.problems)


def test_raw_table_declares_data_as_a_nested_struct() -> None:
    columns = {c.name: c.type for c in raw_columns(_table("cat_sighting_v1"))}
    assert columns["time"] == "string"
    assert columns["version"] == "bigint"
    data = dict(parse_hive_type(columns["data"])[1])
    assert data["location"] == ("struct", [("lat", "double"), ("lon", "double")])
    assert data["ear_tipped"] == "boolean"
    order = dict(
        parse_hive_type(dict((c.name, c.type) for c in raw_columns(_table("order_placed_v1")))["data"])[1]
    )
    assert order["items"] == (
        "array",
        ("struct", [("product_id", "string"), ("quantity", "bigint"), ("unit_price", "string")]),
    )
    assert order["total_amount"] == "string"  # the view casts it to decimal(18,4)


def test_storage_prefix_is_the_archivers() -> None:
    assert storage_prefix("order.placed", 1) == "events/type=order.placed/version=1/"


def test_views_flatten_cast_and_unnest() -> None:
    main, items = views("tributary_archive", _table("order_placed_v1"))
    assert main.name == "order_placed_v1"
    assert 'CAST(r."data"."total_amount" AS decimal(18,4)) AS "total_amount"' in main.sql
    assert 'CAST(from_iso8601_timestamp(r."time") AT TIME ZONE \'UTC\' AS timestamp) AS "time"' in main.sql
    assert 'FROM "tributary_archive"."raw_order_placed_v1" r' in main.sql
    assert items.name == "order_placed_v1_items"
    unnest = 'CROSS JOIN UNNEST(r."data"."items") WITH ORDINALITY AS u'
    assert f'{unnest} ("product_id", "quantity", "unit_price", "ordinal")' in items.sql
    [cats] = views("d", _table("cat_sighting_v1"))
    assert 'r."data"."location"."lat" AS "location_lat"' in cats.sql


def test_presto_view_text_carries_the_definition() -> None:
    [view] = views("tributary_archive", _table("sensor_reading_v1"))
    text = presto_view_text("tributary_archive", view)
    assert text.startswith("/* Presto View: ") and text.endswith(" */")
    definition = json.loads(base64.b64decode(text.removeprefix("/* Presto View: ").removesuffix(" */")))
    assert definition["originalSql"] == view.sql
    assert definition["schema"] == "tributary_archive"
    assert definition["catalog"] == "awsdatacatalog"
    assert [c["name"] for c in definition["columns"]] == [c.name for c in view.columns]
    assert {c["name"]: c["type"] for c in definition["columns"]}["time"] == "timestamp"


def test_database_name() -> None:
    assert database_name("tributary") == "tributary_archive"
    assert database_name("Shop-Prod") == "shop_prod_archive"
