"""Typed rows of the lake tables from archived envelopes, as Arrow tables (what DuckDB loads fastest).

Each column is read from its JSON path (:class:`contracts.tables.Column`) and converted to its logical
type; times become naive UTC timestamps, as Athena's ``timestamp`` and DuckDB's ``TIMESTAMP`` are. An
event whose value does not fit its column (it cannot happen for events ingest accepted) is left out of
every table and counted, never half-loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from archiver.domain import Partition
from contracts import Envelope
from contracts.tables import DECIMAL, Column, LogicalType, Table

ARROW_TYPES: dict[LogicalType, pa.DataType] = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    DECIMAL: pa.decimal128(18, 4),
    "timestamp": pa.timestamp("us"),
}
_SCALE = Decimal("0.0001")
_MISSING = object()


class ValueMismatch(ValueError):
    """A JSON value does not fit its column's type."""


def _string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)


def _bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueMismatch("not an integer")
    return value


def _double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueMismatch("not a number")
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueMismatch("not a boolean")
    return value


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueMismatch("not a decimal")
    try:
        exact = Decimal(str(value))
        scaled = exact.quantize(_SCALE)
    except InvalidOperation as exc:
        raise ValueMismatch("not a decimal(18,4)") from exc
    if scaled != exact or scaled.adjusted() >= 14:
        raise ValueMismatch("does not fit decimal(18,4)")
    return scaled


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        at = value
    elif isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueMismatch("not an ISO-8601 time") from exc
    else:
        raise ValueMismatch("not a time")
    if at.tzinfo is None:
        raise ValueMismatch("a time without a UTC offset")
    return at.astimezone(UTC).replace(tzinfo=None)


CONVERTERS: dict[LogicalType, Callable[[Any], Any]] = {
    "string": _string,
    "bigint": _bigint,
    "double": _double,
    "boolean": _boolean,
    DECIMAL: _decimal,
    "timestamp": _timestamp,
}


def _lookup(source: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(source, dict) or key not in source:
            return _MISSING
        source = source[key]
    return source


def _value(column: Column, source: Any) -> Any:
    found = _lookup(source, column.path)
    if found is _MISSING or found is None:
        if column.nullable:
            return None
        raise ValueMismatch("missing")
    try:
        return CONVERTERS[column.type](found)
    except ValueMismatch as exc:
        raise ValueMismatch(f"column {column.name}: {exc}") from None


@dataclass(kw_only=True)
class TableRows:
    """The rows of one contract's table and of its child tables, built event by event."""

    table: Table
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0
    mismatched: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, partition: Partition, event: Envelope) -> None:
        """Add one event (once per id: a later copy of an id already added is a duplicate)."""
        if event.id in self.seen:
            self.duplicates += 1
            return
        line = {  # what the archive line holds (``data`` as parsed from it), times already parsed
            "id": event.id,
            "type": event.type,
            "version": event.version,
            "source": event.source,
            "time": event.time,
            "ingested_at": event.ingested_at,
            "data": event.data,
        }
        try:
            built = self._build(partition, line)
        except ValueMismatch as exc:
            self.mismatched += 1
            if len(self.problems) < 20:
                self.problems.append(f"{self.table.name} event {event.id}: {exc}")
            return
        self.seen.add(event.id)
        for name, rows in built.items():
            self.rows.setdefault(name, []).extend(rows)

    def _build(self, partition: Partition, line: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
        head = (*(_value(c, line) for c in self.table.columns[:-2]), partition.dt, partition.hour)
        built = {self.table.name: [head]}
        for child in self.table.children:
            items = _lookup(line, child.array_path)
            if items is _MISSING or items is None:
                if not child.array_nullable:
                    raise ValueMismatch(f"array {'.'.join(child.array_path)}: missing")
                items = []
            if not isinstance(items, list):
                raise ValueMismatch(f"array {'.'.join(child.array_path)}: not an array")
            envelope = head[:6]
            built[child.name] = [
                (
                    *envelope,
                    ordinal,
                    *(_value(c, item) for c in child.item_columns),
                    partition.dt,
                    partition.hour,
                )
                for ordinal, item in enumerate(items, start=1)
            ]
        return built

    def arrow(self) -> dict[str, pa.Table]:
        """An Arrow table per table name (empty tables included), typed as the description says."""
        out = {}
        for name, columns in self.table.all_tables():
            rows = self.rows.get(name, [])
            values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
            out[name] = pa.table(
                {c.name: pa.array(v, ARROW_TYPES[c.type]) for c, v in zip(columns, values, strict=True)}
            )
        return out
