"""The local lake: typed DuckDB tables over the archive read from S3 (moto here)."""

from __future__ import annotations

import gzip
from decimal import Decimal
from typing import Any

import pytest

from archiver.domain import object_key, partition_of
from contracts.tables import contract_tables
from tributary.lake.archive import list_objects, parse_key
from tributary.lake.local import LocalLake, tables_named
from tributary.lake.result import LakeError

from .conftest import BUCKET, Archive, archive_events


def test_every_table_exists_with_the_described_columns(s3: Any) -> None:
    """An empty archive still has every table, with the description's column names in order."""
    lake = LocalLake(s3, BUCKET)
    for table in contract_tables():
        for name, columns in table.all_tables():
            result = lake.query(f'SELECT * FROM "{name}"')  # noqa: S608
            assert result.columns == [c.name for c in columns]
            assert result.rows == []


def test_rows_are_typed_and_flattened(archive: Archive) -> None:
    lake = LocalLake(archive.s3, BUCKET)
    order = next(e for e in archive.events if e.type == "order.placed")
    result = lake.query(
        f"SELECT order_id, total_amount, \"time\", dt, hour FROM order_placed_v1 WHERE id = '{order.id}'"  # noqa: S608
    )
    [(order_id, total, at, dt, hour)] = result.rows
    assert order_id == order.data["order_id"]
    assert total == Decimal(order.data["total_amount"])
    assert at == order.time.replace(tzinfo=None)
    assert (dt, hour) == (partition_of(order).dt, partition_of(order).hour)
    items = lake.query(
        f"SELECT ordinal, product_id, quantity, unit_price FROM order_placed_v1_items WHERE id = '{order.id}'"  # noqa: S608
        " ORDER BY ordinal"
    ).rows
    assert items == [
        (n, i["product_id"], i["quantity"], Decimal(i["unit_price"]))
        for n, i in enumerate(order.data["items"], start=1)
    ]


def test_each_event_once_whatever_the_objects(archive: Archive) -> None:
    """The same events archived again (a second flush, as a crashed compaction would leave) are loaded
    once; the counts match the events."""
    archive_events(archive.s3, BUCKET, archive.events, flush="again")
    lake = LocalLake(archive.s3, BUCKET)
    [(count,)] = lake.query("SELECT count(*) FROM cat_sighting_v1").rows
    assert count == sum(e.type == "cat.sighting" for e in archive.events)
    assert any("duplicate" in note for note in lake.notes())


def test_bad_objects_and_lines_are_skipped_and_reported(archive: Archive) -> None:
    """A line that is not an envelope, or an object that is not gzip, is noted, and the rest loads."""
    event = next(e for e in archive.events if e.type == "trade.completed")
    key = object_key(partition_of(event), "broken")
    body = gzip.compress(b'{"not": "an envelope"}\n' + event.model_dump_json().encode() + b"\n")
    archive.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    archive.s3.put_object(Bucket=BUCKET, Key=object_key(partition_of(event), "plain"), Body=b"plain text")
    archive.s3.put_object(Bucket=BUCKET, Key="events/type=trade.completed/stray.txt", Body=b"x")
    lake = LocalLake(archive.s3, BUCKET)
    [(count,)] = lake.query("SELECT count(*) FROM trade_completed_v1").rows
    assert count == sum(e.type == "trade.completed" for e in archive.events)
    notes = " ".join(lake.notes())
    assert "1 unreadable objects, 1 bad lines" in notes


def test_only_the_named_contracts_are_read(archive: Archive) -> None:
    lake = LocalLake(archive.s3, BUCKET)
    tables = tables_named("SELECT * FROM order_placed_v1_items JOIN cat_sighting_v1 USING (id)", lake.tables)
    assert sorted(t.name for t in tables) == ["cat_sighting_v1", "order_placed_v1"]
    lake.query("SELECT count(*) FROM cat_sighting_v1")
    objects = list_objects(archive.s3, BUCKET)
    assert lake.read.objects == sum(o.partition.type == "cat.sighting" for o in objects) < len(objects)


def test_keys_the_archiver_would_not_write_are_ignored() -> None:
    assert parse_key("events/type=a.b/version=1/dt=2026-01-01/hour=03/f.ndjson.gz") is not None
    assert parse_key("events/type=a.b/version=x/dt=2026-01-01/hour=03/f.ndjson.gz") is None
    assert parse_key("events/type=a.b/version=1/dt=2026-01-01/f.ndjson.gz") is None
    assert parse_key("events/type=a b/version=1/dt=2026-01-01/hour=03/f.ndjson.gz") is None  # not encoded


def test_bad_sql_is_a_clear_error(s3: Any) -> None:
    lake = LocalLake(s3, BUCKET)
    with pytest.raises(LakeError, match=r"query failed.*nope"):
        lake.query("SELECT nope FROM cat_sighting_v1")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/hostname')",
        "COPY cat_sighting_v1 TO 'copied.csv'",
        "SET threads = 8",
        "INSTALL httpfs",
    ],
)
def test_the_sql_reaches_only_the_archive(s3: Any, sql: str) -> None:
    """The local lake reads no files, writes none, loads no extension and changes no setting."""
    lake = LocalLake(s3, BUCKET)
    with pytest.raises(LakeError, match="query failed"):
        lake.query(sql)
