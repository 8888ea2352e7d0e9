"""The local lake: the archive read from the emulator's S3 into in-memory DuckDB tables, then SQL.

DuckDB's own S3 access (the httpfs extension) cannot be downloaded here, so objects are listed and read
through boto3, decoded, typed (:mod:`.rows`) and loaded as Arrow tables into tables created from the same
description as the Glue tables and Athena views (:mod:`contracts.tables`): same names, same columns, same
types. Only the contracts a query names are read. Events are loaded once per id.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from typing import Any

import duckdb

from contracts.tables import Column, Table, contract_tables
from tributary.lake.archive import ReadReport, decode_envelopes, fetch_all, list_objects
from tributary.lake.result import LakeError, QueryResult
from tributary.lake.rows import TableRows

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "decimal(18,4)": "DECIMAL(18,4)",
    "timestamp": "TIMESTAMP",
}


def create_table_sql(name: str, columns: tuple[Column, ...]) -> str:
    """``CREATE TABLE`` of one lake table in DuckDB."""
    body = ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in columns)
    return f'CREATE TABLE "{name}" ({body})'


def tables_named(sql: str, tables: list[Table]) -> list[Table]:
    """The contract tables whose table or a child table ``sql`` mentions (as a word)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql.lower()))
    return [t for t in tables if any(name in words for name, _ in t.all_tables())]


class LocalLake:
    """In-memory DuckDB tables over the archive in ``bucket`` (read through the boto3 client ``s3``)."""

    def __init__(self, s3: Any, bucket: str, *, threads: int = 2) -> None:
        self._s3 = s3
        self._bucket = bucket
        self.tables = contract_tables()
        # The SQL is the user's, the data only the archive: no files, no extensions, no settings changed.
        self.db = duckdb.connect(
            ":memory:",
            config={"threads": threads, "enable_external_access": False, "lock_configuration": True},
        )
        for table in self.tables:
            for name, columns in table.all_tables():
                self.db.execute(create_table_sql(name, columns))
        self._loaded: set[str] = set()
        self.read = ReadReport()
        self.rows: dict[str, TableRows] = {}

    def load(self, tables: list[Table]) -> None:
        """Read the archive objects of ``tables``' contracts (those not read yet) into their tables."""
        wanted = {(t.type, t.version): t for t in tables if t.name not in self._loaded}
        if not wanted:
            return
        building = {key: TableRows(table=t) for key, t in wanted.items()}
        by_contract = defaultdict(list)
        for obj in list_objects(self._s3, self._bucket):
            key = (obj.partition.type, obj.partition.version)
            if key in building:
                by_contract[key].append(obj)
        for key, objects in by_contract.items():
            for obj, body in zip(objects, fetch_all(self._s3, self._bucket, objects), strict=True):
                for event in decode_envelopes(body, obj, self.read):
                    building[key].add(obj.partition, event)
        for key, built in building.items():
            for name, arrow in built.arrow().items():
                self.db.register("_batch", arrow)
                try:
                    self.db.execute(f'INSERT INTO "{name}" SELECT * FROM _batch')  # noqa: S608
                finally:
                    self.db.unregister("_batch")
            self.rows[built.table.name] = built
            self._loaded.add(wanted[key].name)

    def notes(self) -> list[str]:
        """What loading skipped: unreadable objects and lines, duplicates, mismatched events."""
        notes = []
        if self.read.bad_objects or self.read.bad_lines:
            notes.append(
                f"skipped {self.read.bad_objects} unreadable objects, {self.read.bad_lines} bad lines"
            )
        for name, built in sorted(self.rows.items()):
            if built.duplicates:
                notes.append(f"{name}: {built.duplicates} duplicate copies of events ignored")
            if built.mismatched:
                notes.append(f"{name}: {built.mismatched} events left out: {'; '.join(built.problems[:3])}")
        return notes + self.read.problems[:5]

    def query(self, sql: str) -> QueryResult:
        """Run ``sql`` after loading the tables it names.

        Raises:
            LakeError: DuckDB refused the SQL.
        """
        started = time.perf_counter()
        self.load(tables_named(sql, self.tables))
        loaded = time.perf_counter()
        try:
            with self.db.cursor() as cursor:
                cursor.execute(sql)
                columns = [d[0] for d in cursor.description or []]
                rows = cursor.fetchall()
        except duckdb.Error as exc:
            raise LakeError(f"query failed: {exc}") from None
        return QueryResult(
            columns=columns,
            rows=rows,
            engine="duckdb",
            query_s=time.perf_counter() - loaded,
            load_s=loaded - started,
            notes=self.notes(),
        )

    def close(self) -> None:
        self.db.close()
