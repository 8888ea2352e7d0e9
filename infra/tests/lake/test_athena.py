"""The Athena runner, against botocore's Stubber: the calls it makes and how it reads the answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tributary.lake.athena import AthenaLake
from tributary.lake.named import named_query
from tributary.lake.result import LakeError

SQL = named_query("sales-per-shop").sql


@pytest.fixture
def athena() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _status(state: str, reason: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    return {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status}}


def _row(*values: str | None) -> dict[str, Any]:
    return {"Data": [{"VarCharValue": v} if v is not None else {} for v in values]}


COLUMNS = [
    {"Name": "day", "Type": "varchar"},
    {"Name": "shop_id", "Type": "varchar"},
    {"Name": "orders", "Type": "bigint"},
    {"Name": "sales", "Type": "decimal", "Precision": 38, "Scale": 4},
    {"Name": "last", "Type": "timestamp"},
]


def _page(rows: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": COLUMNS}}}
    if token:
        page["NextToken"] = token
    return page


def test_runs_in_the_workgroup_waits_and_reads_every_page(athena: tuple[Any, Stubber]) -> None:
    client, stubber = athena
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": SQL,
            "WorkGroup": "tributary-lake",
            "QueryExecutionContext": {"Database": "tributary_archive"},
        },
    )
    stubber.add_response("get_query_execution", _status("QUEUED"), {"QueryExecutionId": "q-1"})
    stubber.add_response("get_query_execution", _status("RUNNING"), {"QueryExecutionId": "q-1"})
    stubber.add_response("get_query_execution", _status("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    header = _row("day", "shop_id", "orders", "sales", "last")
    stubber.add_response(
        "get_query_results",
        _page([header, _row("2026-12-06", "shop-01", "40", "633300.0000", "2026-12-06 11:59:01.000")], "t2"),
        {"QueryExecutionId": "q-1"},
    )
    stubber.add_response(
        "get_query_results",
        _page([_row("2026-12-06", "shop-02", "49", None, None)]),
        {"QueryExecutionId": "q-1", "NextToken": "t2"},
    )
    waits: list[float] = []
    lake = AthenaLake(client, workgroup="tributary-lake", database="tributary_archive", sleep=waits.append)
    result = lake.query(SQL)
    assert result.columns == ["day", "shop_id", "orders", "sales", "last"]
    assert result.rows == [
        ("2026-12-06", "shop-01", 40, Decimal("633300.0000"), datetime(2026, 12, 6, 11, 59, 1)),
        ("2026-12-06", "shop-02", 49, None, None),
    ]
    assert result.engine == "athena"
    assert waits == [0.2, 0.4]


def test_a_failed_query_is_an_error_with_athenas_reason(athena: tuple[Any, Stubber]) -> None:
    client, stubber = athena
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    stubber.add_response("get_query_execution", _status("FAILED", reason))
    lake = AthenaLake(client, workgroup="w", database="d", sleep=lambda _: None)
    with pytest.raises(LakeError, match="q-1 failed: COLUMN_NOT_FOUND"):
        lake.query("SELECT nope FROM cat_sighting_v1")


def test_a_query_past_the_timeout_is_stopped(athena: tuple[Any, Stubber]) -> None:
    client, stubber = athena
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stubber.add_response("get_query_execution", _status("RUNNING"))
    stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    lake = AthenaLake(client, workgroup="w", database="d", timeout_s=0.0, sleep=lambda _: None)
    with pytest.raises(LakeError, match="still RUNNING"):
        lake.query("SELECT 1")
