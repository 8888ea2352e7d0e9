"""Typed lake tables, one per contract version, generated from the contracts' JSON Schemas.

The archive holds one envelope per line (``{"id": …, "type": …, "data": {…}}``); a user asks questions
of it as tables with one typed column per field. This module is the one place that says what those tables
are, as a neutral description (:class:`Table`: a name, columns with logical types and the JSON path each
is read from, child tables for arrays). The local lake (DuckDB) and the AWS one (Glue tables and Athena
views) are both derived from it, so the same SQL text runs in both places.

Naming and mapping rules:

- table ``<type with dots as underscores>_v<version>``: ``order.placed`` v1 is ``order_placed_v1``;
- every table starts with the envelope's ``id, type, version, source, time, ingested_at`` and ends with the
  archive's partitions ``dt`` (``YYYY-MM-DD``) and ``hour`` (``HH``), both the event's own UTC time;
- a field of ``data`` is a column of its own name; a nested object is flattened with ``_``
  (``location.lat`` → ``location_lat``), its columns nullable when the object is optional;
- an array becomes a child table ``<table>_<field>`` (``order_placed_v1_items``): the envelope columns
  (join on ``id``), ``ordinal`` (1-based position in the array), the item's fields (scalars: ``value``)
  and the partitions;
- types: JSON string → ``string`` (``format: date-time`` → ``timestamp``, UTC), integer → ``bigint``,
  number → ``double``, boolean → ``boolean``, number-or-string (pydantic's ``Decimal``) →
  ``decimal(18,4)`` (the contracts' money has at most four decimal places), enum → ``string``, an
  object with no declared properties → ``string`` holding its JSON text.

A released contract's table may gain columns but never lose one or change a column's type:
:func:`table_changes` says how a new schema breaks that, and :mod:`contracts.evolution` reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.envelope import detail_type
from contracts.registry import contract_model, known_contracts

LogicalType = Literal["string", "bigint", "double", "boolean", "decimal(18,4)", "timestamp"]
DECIMAL: LogicalType = "decimal(18,4)"

Schema = Mapping[str, Any]


class TableError(ValueError):
    """A contract's schema cannot be mapped to a table (a name collision, an array inside an array)."""


@dataclass(frozen=True)
class Column:
    """A typed column, read from ``path`` (keys from the envelope line, or from the array item in a child
    table; empty for a partition, which comes from the object's key; ``("#",)`` is the item's position)."""

    name: str
    type: LogicalType
    path: tuple[str, ...]
    nullable: bool = False


@dataclass(frozen=True)
class ChildTable:
    """The items of one array field: ``columns`` are read from each item (``path`` relative to it)."""

    name: str
    array_path: tuple[str, ...]
    item_columns: tuple[Column, ...]
    array_nullable: bool = False

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column in order: envelope, ``ordinal``, the item's fields, partitions."""
        return (*ENVELOPE_COLUMNS, ORDINAL, *self.item_columns, *PARTITION_COLUMNS)


@dataclass(frozen=True)
class Table:
    """The typed table of one contract version, and the child tables of its arrays."""

    name: str
    type: str
    version: int
    data_columns: tuple[Column, ...]
    children: tuple[ChildTable, ...] = field(default=())

    @property
    def contract(self) -> str:
        return detail_type(self.type, self.version)

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column in order: envelope, the fields of ``data``, partitions."""
        return (*ENVELOPE_COLUMNS, *self.data_columns, *PARTITION_COLUMNS)

    def all_tables(self) -> list[tuple[str, tuple[Column, ...]]]:
        """``(name, columns)`` of this table and each child table."""
        return [(self.name, self.columns), *((c.name, c.columns) for c in self.children)]


ENVELOPE_COLUMNS: tuple[Column, ...] = (
    Column("id", "string", ("id",)),
    Column("type", "string", ("type",)),
    Column("version", "bigint", ("version",)),
    Column("source", "string", ("source",)),
    Column("time", "timestamp", ("time",)),
    Column("ingested_at", "timestamp", ("ingested_at",)),
)
PARTITION_COLUMNS: tuple[Column, ...] = (Column("dt", "string", ()), Column("hour", "string", ()))
ORDINAL = Column("ordinal", "bigint", ("#",))
MAX_DEPTH = 8


def table_name(type_: str, version: int) -> str:
    """``order.placed`` v1 → ``order_placed_v1``."""
    return f"{type_.replace('.', '_')}_v{version}"


def table_for(type_: str, version: int, schema: Schema) -> Table:
    """The table of contract ``type_`` v``version`` whose data schema is ``schema``.

    Raises:
        TableError: two fields map to one column name, an array holds arrays, or objects nest deeper than
            :data:`MAX_DEPTH` (a recursive model).
    """
    name = table_name(type_, version)
    walker = _Walker(schema, name)
    columns = walker.object_columns(schema, (), ("data",), nullable=False)
    _check_unique(name, [c.name for c in (*ENVELOPE_COLUMNS, *columns, *PARTITION_COLUMNS)])
    for child in walker.children:
        _check_unique(child.name, [c.name for c in child.columns])
    return Table(name, type_, version, tuple(columns), tuple(walker.children))


def contract_tables() -> list[Table]:
    """The table of every registered contract version, sorted by name."""
    return sorted(
        (table_for(t, v, contract_model(t, v).model_json_schema()) for t, v in known_contracts()),
        key=lambda table: table.name,
    )


def table_changes(released: Table, current: Table) -> list[tuple[str, str]]:
    """``(column, why)`` for every column of ``released`` (or its child tables) that ``current`` drops or
    retypes. New columns and new child tables are compatible."""
    now = dict(current.all_tables())
    problems: list[tuple[str, str]] = []
    for name, columns in released.all_tables():
        if name not in now:
            problems.append((name, f"child table {name} would disappear"))
            continue
        current_columns = {c.name: c for c in now[name]}
        for column in columns:
            new = current_columns.get(column.name)
            where = f"{name}.{column.name}"
            if new is None:
                problems.append((where, f"column {where} would disappear"))
            elif new.type != column.type:
                problems.append((where, f"column {where} would change from {column.type} to {new.type}"))
    return problems


def _check_unique(table: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise TableError(f"table {table}: two fields map to the column {name!r}")
        seen.add(name)


class _Walker:
    """Walks a data schema into columns, collecting child tables for arrays."""

    def __init__(self, root: Schema, table: str) -> None:
        self.root = root
        self.table = table
        self.children: list[ChildTable] = []

    def resolve(self, node: Schema) -> Schema:
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return node
        target: Any = self.root
        for part in ref[2:].split("/"):
            target = target[part]
        resolved: Schema = target
        return self.resolve(resolved)

    def unwrap(self, node: Schema) -> tuple[list[Schema], bool]:
        """The non-null variants of a field, and whether it may be null."""
        node = self.resolve(node)
        options = node.get("anyOf") or node.get("oneOf")
        if isinstance(node.get("type"), list):  # {"type": ["integer", "null"]}: one variant per type
            options = [{**node, "type": kind} for kind in node["type"]]
        if not options:
            return [node], node.get("type") == "null"
        variants: list[Schema] = []
        nullable = False
        for option in options:
            inner, inner_null = self.unwrap(option)
            nullable = nullable or inner_null
            variants.extend(v for v in inner if v.get("type") != "null")
        return variants, nullable

    def object_columns(
        self, node: Schema, prefix: tuple[str, ...], path: tuple[str, ...], *, nullable: bool
    ) -> list[Column]:
        node = self.resolve(node)
        required = set(node.get("required", []))
        columns: list[Column] = []
        for name, field_schema in node.get("properties", {}).items():
            columns.extend(
                self.field_columns(
                    field_schema, (*prefix, name), (*path, name), nullable=nullable or name not in required
                )
            )
        return columns

    def field_columns(
        self, node: Schema, prefix: tuple[str, ...], path: tuple[str, ...], *, nullable: bool
    ) -> list[Column]:
        if len(prefix) > MAX_DEPTH:  # a recursive model would never end
            raise TableError(f"table {self.table}: field {'.'.join(prefix)!r} nests deeper than {MAX_DEPTH}")
        variants, may_be_null = self.unwrap(node)
        nullable = nullable or may_be_null
        kinds = {_kind(v) for v in variants}
        name = "_".join(prefix)
        if kinds == {"object"} and len(variants) == 1 and variants[0].get("properties"):
            return self.object_columns(variants[0], prefix, path, nullable=nullable)
        if kinds == {"array"} and len(variants) == 1:
            self.add_child(variants[0], prefix, path, nullable=nullable)
            return []
        return [Column(name, _logical(kinds, variants), path, nullable)]

    def add_child(
        self, node: Schema, prefix: tuple[str, ...], path: tuple[str, ...], *, nullable: bool
    ) -> None:
        child_name = f"{self.table}_{'_'.join(prefix)}"
        items, _ = self.unwrap(node.get("items", {}))
        kinds = {_kind(v) for v in items}
        if "array" in kinds:
            raise TableError(f"table {self.table}: array {'.'.join(prefix)!r} holds arrays")
        if kinds == {"object"} and len(items) == 1 and items[0].get("properties"):
            inner = _Walker(self.root, child_name)
            columns = inner.object_columns(items[0], (), (), nullable=False)
            if inner.children:
                raise TableError(f"table {self.table}: the items of {'.'.join(prefix)!r} hold arrays")
        else:
            columns = [Column("value", _logical(kinds, items), (), nullable=True)]
        self.children.append(ChildTable(child_name, path, tuple(columns), nullable))


def _kind(node: Schema) -> str:
    kind = node.get("type")
    if isinstance(kind, str):
        return kind
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        return "string" if all(isinstance(v, str) for v in values) else "any"
    return "any"


def _logical(kinds: set[str], variants: Sequence[Schema]) -> LogicalType:
    if kinds == {"string"}:
        formats = {v.get("format") for v in variants}
        return "timestamp" if formats == {"date-time"} else "string"
    if kinds == {"integer"}:
        return "bigint"
    if kinds in ({"number"}, {"integer", "number"}):
        return "double"
    if kinds == {"boolean"}:
        return "boolean"
    if kinds == {"number", "string"}:  # pydantic's Decimal: a JSON number, or a string to keep it exact
        return DECIMAL
    return "string"  # free-form objects, mixed or unknown types: the JSON text
