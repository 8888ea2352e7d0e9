"""The lake on AWS, derived from :mod:`contracts.tables`: one Glue table and Athena views per contract.

Athena reads the archive's lines with the OpenX JSON SerDe, which maps *top-level* JSON keys to columns
(``mapping.*`` properties rename keys but cannot reach into nested objects). So each contract version gets:

- a Glue table ``raw_<table>`` over ``events/type=<t>/version=<v>/``, partitioned by ``dt`` and ``hour``
  (partition projection), whose columns are the envelope's keys with ``data`` as a nested
  ``struct<…>`` (arrays as ``array<struct<…>>``). Decimals and times are declared ``string`` there, the
  JSON text as written, so no SerDe parsing rule can null them;
- an Athena view ``<table>`` (a Glue ``VIRTUAL_VIEW`` holding the Presto view definition, as Athena's own
  ``CREATE VIEW`` stores it) selecting ``data.order_id AS order_id``, flattening nested objects,
  ``CAST(… AS decimal(18,4))`` and ``from_iso8601_timestamp`` at UTC for times;
- a view per array, ``<table>_<field>``, with ``CROSS JOIN UNNEST(…) WITH ORDINALITY``.

So the user sees exactly the tables and columns of the local DuckDB lake (:mod:`.local`), and the same
SQL runs in both places.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from archiver.domain import Partition, object_key
from contracts.fields import EARLIEST_EVENT_TIME, LATEST_EVENT_TIME
from contracts.tables import DECIMAL, ENVELOPE_COLUMNS, ORDINAL, PARTITION_COLUMNS, Column, LogicalType, Table

CATALOG = "awsdatacatalog"
STORAGE_TYPES: dict[LogicalType, str] = {
    "string": "string",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    DECIMAL: "string",
    "timestamp": "string",
}
"""How each logical type is declared in the raw table: what the SerDe reads from the JSON text."""
VIEW_TYPES: dict[LogicalType, str] = {
    "string": "varchar",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    DECIMAL: "decimal(18,4)",
    "timestamp": "timestamp",
}
"""The Presto/Trino type of each view column."""
HIVE_VIEW_TYPES: dict[LogicalType, str] = {**VIEW_TYPES, "string": "string"}
"""The same in Hive spelling, for the Glue catalogue's columns of a view."""
DT_RANGE = f"{EARLIEST_EVENT_TIME:%Y-%m-%d},{LATEST_EVENT_TIME - timedelta(days=1):%Y-%m-%d}"
"""Partition projection's ``dt`` range: every day an event time may fall on (``1970-01-01,2099-12-31``,
:data:`contracts.fields.EventTime`, which the envelope enforces), so every archived object is queryable,
future-dated ones included; ``tributary lake check`` and the conformance test report archived partitions
outside it. The cost: a query that does not filter on ``dt`` makes Athena consider every projected day,
so filter on ``dt`` when you can."""
SERDE = "org.openx.data.jsonserde.JsonSerDe"
SERDE_PARAMETERS = {"case.insensitive": "false", "dots.in.keys": "false", "ignore.malformed.json": "true"}


def database_name(bus_name: str) -> str:
    """The stack's Glue database: lower case, underscores only (``tributary_archive``)."""
    return re.sub(r"[^a-z0-9_]", "_", f"{bus_name}_archive".lower())


def raw_table_name(table: Table) -> str:
    return f"raw_{table.name}"


def storage_prefix(type_: str, version: int) -> str:
    """Where the archiver writes a contract's objects (``events/type=…/version=…/``), spelled by the
    archiver's own :func:`~archiver.domain.object_key`."""
    key: str = object_key(Partition(type_, version, "DT", "HOUR"), "flush")
    return key.split("/dt=DT/", 1)[0] + "/"


# A nested type: a leaf type, a struct (dict of field → type), or ("array", element type).
Nested = Any


def _insert(tree: dict[str, Nested], path: tuple[str, ...], leaf: Nested) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = leaf


def data_tree(table: Table) -> dict[str, Nested]:
    """The ``data`` object's shape as the raw table declares it, fields in contract order."""
    tree: dict[str, Nested] = {}
    for column in table.data_columns:
        _insert(tree, column.path[1:], STORAGE_TYPES[column.type])
    for child in table.children:
        items: dict[str, Nested] = {}
        for column in child.item_columns:
            if column.path:
                _insert(items, column.path, STORAGE_TYPES[column.type])
        element = items if items else STORAGE_TYPES[child.item_columns[0].type]
        _insert(tree, child.array_path[1:], ("array", element))
    return tree


def hive_type(node: Nested) -> str:
    if isinstance(node, dict):
        return "struct<" + ",".join(f"{k}:{hive_type(v)}" for k, v in node.items()) + ">"
    if isinstance(node, tuple):
        return f"array<{hive_type(node[1])}>"
    return str(node)


@dataclass(frozen=True)
class GlueColumn:
    name: str
    type: str


def raw_columns(table: Table) -> list[GlueColumn]:
    """The raw table's columns: the envelope's keys as written (``trace`` too), ``data`` as a nested
    struct."""
    envelope = [GlueColumn(c.name, STORAGE_TYPES[c.type]) for c in ENVELOPE_COLUMNS]
    return [*envelope, GlueColumn("trace", "string"), GlueColumn("data", hive_type(data_tree(table)))]


PARTITION_KEYS = [GlueColumn(c.name, "string") for c in PARTITION_COLUMNS]


def projection_parameters(location: str, dt_range: str) -> dict[str, str]:
    """Partition projection over ``dt=YYYY-MM-DD/hour=HH`` below ``location``."""
    return {
        "projection.enabled": "true",
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": dt_range,
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        "projection.hour.type": "integer",
        "projection.hour.range": "0,23",
        "projection.hour.digits": "2",
        "storage.location.template": f"{location}dt=${{dt}}/hour=${{hour}}/",
    }


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _expression(column: Column, accessor: str) -> str:
    if column.type == DECIMAL:
        return f"CAST({accessor} AS decimal(18,4))"
    if column.type == "timestamp":
        return f"CAST(from_iso8601_timestamp({accessor}) AT TIME ZONE 'UTC' AS timestamp)"
    return accessor


def _envelope_select() -> list[str]:
    return [f"{_expression(c, 'r.' + _q(c.name))} AS {_q(c.name)}" for c in ENVELOPE_COLUMNS]


def _partition_select() -> list[str]:
    return [f"r.{_q(c.name)} AS {_q(c.name)}" for c in PARTITION_COLUMNS]


@dataclass(frozen=True)
class View:
    name: str
    sql: str
    columns: tuple[Column, ...]


def views(database: str, table: Table) -> list[View]:
    """The Athena views of one contract: its table, then one per array."""
    source = f"{_q(database)}.{_q(raw_table_name(table))} r"
    data = [
        f"{_expression(c, 'r.' + '.'.join(_q(p) for p in c.path))} AS {_q(c.name)}"
        for c in table.data_columns
    ]
    select = ",\n       ".join([*_envelope_select(), *data, *_partition_select()])
    found = [View(table.name, f"SELECT {select}\nFROM {source}", table.columns)]
    for child in table.children:
        fields = list(dict.fromkeys(c.path[0] for c in child.item_columns if c.path)) or ["value"]
        alias = ", ".join(_q(f) for f in [*fields, ORDINAL.name])
        items = [
            f"{_expression(c, 'u.' + '.'.join(_q(p) for p in (c.path or ('value',))))} AS {_q(c.name)}"
            for c in child.item_columns
        ]
        ordinal = f"CAST(u.{_q(ORDINAL.name)} AS bigint) AS {_q(ORDINAL.name)}"
        select = ",\n       ".join([*_envelope_select(), ordinal, *items, *_partition_select()])
        array = "r." + ".".join(_q(p) for p in child.array_path)
        sql = f"SELECT {select}\nFROM {source}\nCROSS JOIN UNNEST({array}) WITH ORDINALITY AS u ({alias})"
        found.append(View(child.name, sql, child.columns))
    return found


def presto_view_text(database: str, view: View) -> str:
    """The ``ViewOriginalText`` Athena writes for ``CREATE VIEW``: the definition, base64 JSON."""
    definition = {
        "originalSql": view.sql,
        "catalog": CATALOG,
        "schema": database,
        "columns": [{"name": c.name, "type": VIEW_TYPES[c.type]} for c in view.columns],
    }
    encoded = base64.b64encode(json.dumps(definition, separators=(",", ":")).encode()).decode()
    return f"/* Presto View: {encoded} */"
