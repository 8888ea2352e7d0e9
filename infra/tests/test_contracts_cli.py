"""Tests of ``tributary contracts``: list, show, check and release."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts.evolution import RELEASED_DIR
from contracts.schemas import SCHEMA_DIR
from tributary.cli import app


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["contracts", *args])
    return result.exit_code, result.output


def test_list_names_every_version_and_its_release() -> None:
    """Both sensor.reading versions are listed as released detail-types."""
    code, out = _run("list")
    assert code == 0
    assert "sensor.reading.v1" in out and "sensor.reading.v2" in out


def test_show_prints_the_newest_schema_by_default() -> None:
    code, out = _run("show", "sensor.reading")
    assert code == 0
    assert json.loads(out)["title"] == "sensor.reading.v2"


def test_show_a_given_version() -> None:
    code, out = _run("show", "sensor.reading", "--version", "1")
    assert code == 0
    assert "unit" in json.loads(out)["properties"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nope.type"], "unknown contract type 'nope.type'"), (["sensor.reading", "-v", "7"], "no version 7")],
)
def test_show_refuses_unknown_contracts(args: list[str], message: str) -> None:
    code, out = _run("show", *args)
    assert code == 1
    assert message in out


def test_check_passes_on_the_repository() -> None:
    code, out = _run("check")
    assert code == 0, out
    assert "follow the evolution rules" in out


def test_check_and_release_refuse_a_removed_field(tmp_path: Path) -> None:
    """A snapshot with a field the current schema lacks fails both commands, naming field and rule."""
    released = tmp_path / "released"
    shutil.copytree(RELEASED_DIR, released)
    snapshot = json.loads((released / "cat.sighting.v1.json").read_text())
    snapshot["properties"]["whiskers"] = {"type": "integer"}
    (released / "cat.sighting.v1.json").write_text(json.dumps(snapshot))
    for command in ("check", "release"):
        code, out = _run(command, "--released-dir", str(released))
        assert code == 1
        assert "cat.sighting.v1: field 'whiskers' breaks rule 'removed'" in out


def test_release_into_an_empty_folder_snapshots_every_contract(tmp_path: Path) -> None:
    released = tmp_path / "released"
    code, out = _run("release", "--schemas-dir", str(SCHEMA_DIR), "--released-dir", str(released))
    assert code == 0, out
    assert sorted(p.name for p in released.iterdir()) == sorted(p.name for p in RELEASED_DIR.iterdir())
    assert _run("release", "--released-dir", str(released)) == (0, "nothing new to release\n")
