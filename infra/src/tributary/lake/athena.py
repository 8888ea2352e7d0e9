"""The lake on AWS: the same SQL run by Athena in the stack's workgroup, over its Glue database.

``StartQueryExecution`` in the workgroup (which owns the encrypted results location, so the caller names
none), ``GetQueryExecution`` until the query ends (polling backs off to 2 s, bounded by ``timeout_s``; a
timed-out query is stopped), then every page of ``GetQueryResults`` with values typed from the result's
column metadata.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from tributary.lake.result import LakeError, QueryResult

DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}


def workgroup_name(bus_name: str) -> str:
    """The stack's Athena workgroup (the CDK app creates it)."""
    return f"{bus_name}-lake"


def _typed(value: str | None, kind: str) -> Any:
    if value is None:
        return None
    if kind in ("bigint", "integer", "smallint", "tinyint"):
        return int(value)
    if kind in ("double", "float", "real"):
        return float(value)
    if kind == "boolean":
        return value == "true"
    if kind == "decimal":
        return Decimal(value)
    if kind.startswith("timestamp"):
        return datetime.fromisoformat(value)
    return value


class AthenaLake:
    """Runs lake SQL on Athena with the boto3 client ``athena``."""

    def __init__(
        self,
        athena: Any,
        *,
        workgroup: str,
        database: str,
        timeout_s: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._athena = athena
        self.workgroup = workgroup
        self.database = database
        self._timeout_s = timeout_s
        self._sleep = sleep

    def query(self, sql: str) -> QueryResult:
        """Run ``sql`` and return every row.

        Raises:
            LakeError: Athena failed or cancelled the query, or it outlasted the timeout (then it is stopped).
        """
        started = time.perf_counter()
        execution_id = self._athena.start_query_execution(
            QueryString=sql,
            WorkGroup=self.workgroup,
            QueryExecutionContext={"Database": self.database},
        )["QueryExecutionId"]
        status = self._wait(execution_id, started)
        state = status["State"]
        if state != "SUCCEEDED":
            reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage", "")
            raise LakeError(f"Athena query {execution_id} {state.lower()}: {reason}")
        columns, rows = self._results(execution_id)
        return QueryResult(columns=columns, rows=rows, engine="athena", query_s=time.perf_counter() - started)

    def _wait(self, execution_id: str, started: float) -> dict[str, Any]:
        delay = 0.2
        while True:
            execution = self._athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status: dict[str, Any] = execution["Status"]
            if status["State"] in DONE:
                return status
            if time.perf_counter() - started > self._timeout_s:
                self._athena.stop_query_execution(QueryExecutionId=execution_id)
                raise LakeError(
                    f"Athena query {execution_id} still {status['State']} after {self._timeout_s:.0f}s"
                )
            self._sleep(delay)
            delay = min(delay * 2, 2.0)

    def _results(self, execution_id: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        columns: list[str] = []
        kinds: list[str] = []
        rows: list[tuple[Any, ...]] = []
        first = True
        paginator = self._athena.get_paginator("get_query_results")
        for page in paginator.paginate(QueryExecutionId=execution_id):
            result_set = page["ResultSet"]
            if not columns:
                info = result_set["ResultSetMetadata"]["ColumnInfo"]
                columns = [c["Name"] for c in info]
                kinds = [c["Type"].lower() for c in info]
            data = result_set.get("Rows", [])
            if first and data:  # the first row of the first page is the header
                data = data[1:]
            first = False
            for row in data:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                rows.append(tuple(_typed(v, k) for v, k in zip(values, kinds, strict=True)))
        return columns, rows
