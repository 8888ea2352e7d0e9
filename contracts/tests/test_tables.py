"""Tests of the typed lake tables generated from the contracts' JSON Schemas."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import known_contracts
from contracts.tables import (
    DECIMAL,
    ENVELOPE_COLUMNS,
    PARTITION_COLUMNS,
    TableError,
    contract_tables,
    table_for,
)


def _types(columns: Any) -> dict[str, str]:
    return {c.name: c.type for c in columns}


def test_every_contract_version_has_its_table() -> None:
    """One table per registered contract version, named after its type and version."""
    names = {t.name for t in contract_tables()}
    assert names == {f"{t.replace('.', '_')}_v{v}" for t, v in known_contracts()}
    assert {"order_placed_v1", "cat_sighting_v1", "sensor_reading_v1", "sensor_reading_v2"} <= names


def test_every_table_and_child_carries_the_envelope_and_the_partitions() -> None:
    for table in contract_tables():
        for name, columns in table.all_tables():
            assert columns[: len(ENVELOPE_COLUMNS)] == ENVELOPE_COLUMNS, name
            assert columns[-2:] == PARTITION_COLUMNS, name


def test_order_placed_has_typed_columns_and_an_items_child_table() -> None:
    [table] = [t for t in contract_tables() if t.name == "order_placed_v1"]
    assert _types(table.data_columns) == {
        "order_id": "string",
        "shop_id": "string",
        "customer_id": "string",
        "currency": "string",
        "total_amount": DECIMAL,
    }
    [items] = table.children
    assert items.name == "order_placed_v1_items"
    assert items.array_path == ("data", "items")
    assert _types(items.columns) == {
        **_types(ENVELOPE_COLUMNS),
        "ordinal": "bigint",
        "product_id": "string",
        "quantity": "bigint",
        "unit_price": DECIMAL,
        "dt": "string",
        "hour": "string",
    }


def test_cat_sighting_flattens_the_optional_location() -> None:
    [table] = [t for t in contract_tables() if t.name == "cat_sighting_v1"]
    columns = {c.name: c for c in table.data_columns}
    assert columns["location_lat"].path == ("data", "location", "lat")
    assert columns["location_lat"].type == "double"
    assert columns["location_lat"].nullable  # the location is optional, so its fields may be missing
    assert not columns["municipality_code"].nullable
    assert columns["ear_tipped"].type == "boolean"
    assert columns["status"].type == "string"


def test_date_time_fields_are_timestamps() -> None:
    [table] = [t for t in contract_tables() if t.name == "ops_dlq_depth_v1"]
    assert _types(table.data_columns)["observed_at"] == "timestamp"
    assert _types(table.columns)["time"] == "timestamp"


def test_arrays_of_scalars_become_a_value_column() -> None:
    schema = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}
    [child] = table_for("thing.tagged", 1, schema).children
    assert child.name == "thing_tagged_v1_tags"
    assert [(c.name, c.type) for c in child.item_columns] == [("value", "string")]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {
                "type": "object",
                "properties": {
                    "a": {"type": "object", "properties": {"b": {"type": "string"}}},
                    "a_b": {"type": "string"},
                },
            },
            "two fields map to the column 'a_b'",
        ),
        ({"type": "object", "properties": {"source": {"type": "string"}}}, "column 'source'"),
        (
            {"type": "object", "properties": {"grid": {"type": "array", "items": {"type": "array"}}}},
            "holds arrays",
        ),
        (
            {
                "$defs": {"Node": {"type": "object", "properties": {"up": {"$ref": "#/$defs/Node"}}}},
                "type": "object",
                "properties": {"node": {"$ref": "#/$defs/Node"}},
            },
            "nests deeper than 8",
        ),
    ],
    ids=["flattened collision", "envelope collision", "nested arrays", "recursive model"],
)
def test_unmappable_schemas_are_refused(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(TableError, match=message):
        table_for("thing.happened", 1, schema)
