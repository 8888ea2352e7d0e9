"""Does the archive hold what the Glue tables declare? Each line read as Athena would read it.

For every archive object: its key must fall under the raw Glue table's location in a partition that
partition projection produces (``dt`` in :data:`~tributary.lake.glue.DT_RANGE`, ``hour`` ``00`` to ``23``).
For every line: each declared column (parsed back from the Glue type string, as the catalogue holds it)
is read with the OpenX JSON SerDe's rules — a missing key is NULL, ``bigint`` needs a JSON integer,
``double`` a number, ``boolean`` a boolean, ``struct`` an object, ``array`` an array — and every key the
line holds must be declared (or it would be invisible). Then the view's casts must succeed (decimals fit
``decimal(18,4)``, times are ISO-8601 with an offset) and required columns must not be NULL: the typed
rows are built exactly as the local lake builds them.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from archiver.domain import Partition
from contracts import Envelope
from contracts.tables import Table, contract_tables
from tributary.lake.archive import list_objects
from tributary.lake.glue import DT_RANGE, raw_columns, storage_prefix
from tributary.lake.rows import TableRows

HiveType = Any  # "string" | ("struct", [(name, HiveType)]) | ("array", HiveType)


def parse_hive_type(text: str) -> HiveType:
    """``struct<a:string,b:array<bigint>>`` →
    ``("struct", [("a", "string"), ("b", ("array", "bigint"))])``."""
    parsed, rest = _parse(text.replace(" ", ""))
    if rest:
        raise ValueError(f"unparsed tail {rest!r} in {text!r}")
    return parsed


def _parse(text: str) -> tuple[HiveType, str]:
    if text.startswith("struct<"):
        rest = text[len("struct<") :]
        fields = []
        while not rest.startswith(">"):
            name, _, rest = rest.partition(":")
            kind, rest = _parse(rest)
            fields.append((name, kind))
            rest = rest.removeprefix(",")
        return ("struct", fields), rest[1:]
    if text.startswith("array<"):
        kind, rest = _parse(text[len("array<") :])
        return ("array", kind), rest[1:]
    end = min((i for i in (text.find(","), text.find(">")) if i >= 0), default=len(text))
    return text[:end], text[end:]


def serde_problems(value: Any, kind: HiveType, path: str) -> list[str]:
    """What the JSON SerDe would mis-read in ``value`` declared as ``kind`` (``None`` reads as NULL)."""
    if value is None:
        return []
    if isinstance(kind, tuple) and kind[0] == "struct":
        if not isinstance(value, dict):
            return [f"{path}: declared struct, holds {type(value).__name__}"]
        declared = dict(kind[1])
        problems = [f"{path}.{key}: in the archive, not declared" for key in value if key not in declared]
        for name, inner in kind[1]:
            problems.extend(serde_problems(value.get(name), inner, f"{path}.{name}"))
        return problems
    if isinstance(kind, tuple) and kind[0] == "array":
        if not isinstance(value, list):
            return [f"{path}: declared array, holds {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in serde_problems(item, kind[1], f"{path}[{i}]")]
    fits = {
        "string": lambda v: isinstance(v, str | int | float | bool),
        "bigint": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    check = fits.get(str(kind))
    if check is None:
        return [f"{path}: declared {kind}, which this check does not know"]
    return [] if check(value) else [f"{path}: declared {kind}, holds {json.dumps(value)[:40]}"]


@dataclass(kw_only=True)
class Conformance:
    """What a check of the archive against one contract's Glue table found."""

    table: Table
    objects: int = 0
    lines: int = 0
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._columns = [(c.name, parse_hive_type(c.type)) for c in raw_columns(self.table)]
        self._rows = TableRows(table=self.table)
        self._prefix = storage_prefix(self.table.type, self.table.version)
        self._since = date.fromisoformat(DT_RANGE.split(",", 1)[0])

    def check_key(self, key: str, partition: Partition) -> None:
        self.objects += 1
        expected = f"{self._prefix}dt={partition.dt}/hour={partition.hour}/"
        if not key.startswith(expected):
            self.problems.append(f"{key}: not under the table's location template {self._prefix}dt=…/hour=…/")
        try:
            day = date.fromisoformat(partition.dt)
        except ValueError:
            self.problems.append(f"{key}: dt={partition.dt} is not a projected date")
            return
        if day < self._since:
            self.problems.append(f"{key}: dt={partition.dt} is before the projection's range {DT_RANGE}")
        if len(partition.hour) != 2 or not partition.hour.isdigit() or int(partition.hour) > 23:
            self.problems.append(f"{key}: hour={partition.hour} is not a projected hour")

    def check_line(self, key: str, line: bytes, partition: Partition) -> None:
        self.lines += 1
        where = f"{key} line {self.lines}"
        try:
            document = json.loads(line)
        except ValueError:
            self.problems.append(f"{where}: not JSON")
            return
        declared = {name for name, _ in self._columns}
        undeclared = sorted(k for k in document if k not in declared)
        self.problems.extend(f"{where}: key {k!r} in the archive, not declared" for k in undeclared)
        for name, kind in self._columns:
            self.problems.extend(f"{where}: {p}" for p in serde_problems(document.get(name), kind, name))
        before = self._rows.mismatched
        try:
            self._rows.add(partition, Envelope.model_validate(document))
        except ValueError as exc:
            self.problems.append(f"{where}: not an envelope ({exc.__class__.__name__})")
            return
        if self._rows.mismatched > before:
            self.problems.append(f"{where}: the view cannot type it: {self._rows.problems[-1]}")


def check_archive(s3: Any, bucket: str) -> tuple[dict[str, Conformance], list[str]]:
    """Every archive object and line checked against its contract's Glue table; also the problems that
    belong to no table (objects of a contract with no table, objects that are not gzip)."""
    tables = {(t.type, t.version): t for t in contract_tables()}
    checks: dict[str, Conformance] = {}
    orphans: list[str] = []
    for obj in list_objects(s3, bucket):
        table = tables.get((obj.partition.type, obj.partition.version))
        if table is None:
            orphans.append(f"{obj.key}: no lake table for {obj.partition.type}.v{obj.partition.version}")
            continue
        check = checks.setdefault(table.name, Conformance(table=table))
        check.check_key(obj.key, obj.partition)
        body = s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read()
        try:
            text = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            check.problems.append(f"{obj.key}: not gzip (Athena reads it as garbage)")
            continue
        for line in text.splitlines():
            if line.strip():
                check.check_line(obj.key, line, obj.partition)
    return checks, orphans
