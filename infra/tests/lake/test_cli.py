"""``tributary lake``: the tables listing, argument errors, and which engine a stack description picks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts.tables import contract_tables
from tributary.cli import app
from tributary.lake.athena import AthenaLake
from tributary.lake.cli import Engine, open_lake
from tributary.lake.local import LocalLake
from tributary.lake.result import LakeError


def test_tables_lists_every_table_with_its_columns() -> None:
    result = CliRunner().invoke(app, ["lake", "tables", "--json"])
    assert result.exit_code == 0, result.output
    listed = {t["table"]: t for t in json.loads(result.output)}
    expected = {name for t in contract_tables() for name, _ in t.all_tables()}
    assert set(listed) == expected
    columns = {c["name"]: c["type"] for c in listed["order_placed_v1"]["columns"]}
    assert columns["total_amount"] == "decimal(18,4)"
    assert listed["order_placed_v1_items"]["contract"] == "order.placed.v1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lake", "query"], "give either SQL or --named NAME"),
        (["lake", "query", "SELECT 1", "--named", "injured-cats"], "give either SQL or --named NAME"),
        (["lake", "query", "--named", "nope"], "no named query 'nope'"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output


def test_no_stack_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lake", "query", "SELECT 1", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no stack running" in result.output


def _stack(tmp_path: Path, endpoint: str | None) -> Path:
    description = {"aws_endpoint": endpoint, "region": "eu-west-1", "bus_name": "shop", "bucket": "b-1"}
    (tmp_path / "stack.json").write_text(json.dumps(description))
    return tmp_path


def _open(data_dir: Path, engine: Engine) -> AthenaLake | LocalLake:
    with open_lake(
        data_dir=data_dir, profile=None, region=None, bus="x", engine=engine, workgroup=None, database=None
    ) as lake:
        return lake


def test_a_deployed_stack_queries_athena_in_its_workgroup(tmp_path: Path) -> None:
    lake = _open(_stack(tmp_path, None), Engine.auto)
    assert isinstance(lake, AthenaLake)
    assert (lake.workgroup, lake.database) == ("shop-lake", "shop_archive")


def test_a_local_stack_queries_duckdb_unless_told(tmp_path: Path) -> None:
    data_dir = _stack(tmp_path, "http://127.0.0.1:1")
    assert isinstance(_open(data_dir, Engine.auto), LocalLake)
    assert isinstance(_open(data_dir, Engine.athena), AthenaLake)


def test_duckdb_cannot_read_a_deployed_stack(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="on AWS"):
        _open(_stack(tmp_path, None), Engine.duckdb)
