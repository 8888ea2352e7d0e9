"""Tests of JSON Schema generation and the up-to-date check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contracts.registry import known_contracts
from contracts.schemas import SCHEMA_DIR, main, render_schemas, schema_problems, write_schemas


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    """A copy of the checked-in schema folder."""
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, copy)
    return copy


def test_one_schema_per_contract_plus_the_envelope() -> None:
    """Files are named ``<type>.v<version>.json``, plus ``envelope.json``."""
    expected = {f"{t}.v{v}.json" for t, v in known_contracts()} | {"envelope.json"}
    assert set(render_schemas()) == expected


def test_schemas_carry_id_title_and_dialect() -> None:
    """Each schema names itself and the JSON Schema dialect."""
    schema = json.loads(render_schemas()["sensor.reading.v1.json"])
    assert schema["$id"] == "sensor.reading.v1.json"
    assert schema["title"] == "sensor.reading.v1"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


def test_schema_text_is_sorted_indented_and_ends_with_a_newline() -> None:
    """The text is stable so diffs stay small."""
    text = render_schemas()["envelope.json"]
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_checked_in_schemas_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    """``check`` passes on the repository's schema folder."""
    assert main(["check"]) == 0
    assert capsys.readouterr().err == ""


def test_check_names_a_tampered_file(schema_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An edited schema is reported as stale, with the command that fixes it."""
    path = schema_copy / "order.placed.v1.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["required"].remove("total_amount")
    path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    assert main(["check", "--dir", str(schema_copy)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: stale" in err
    assert f"python -m contracts.schemas write --dir {schema_copy}" in err


def test_check_names_missing_and_extra_files(schema_copy: Path) -> None:
    """A deleted schema and a schema of no contract are both reported."""
    (schema_copy / "cat.sighting.v1.json").unlink()
    (schema_copy / "cat.sighting.v2.json").write_text("{}\n", encoding="utf-8")
    assert schema_problems(schema_copy) == [
        f"{schema_copy / 'cat.sighting.v1.json'}: missing",
        f"{schema_copy / 'cat.sighting.v2.json'}: extra (no such contract)",
    ]


def test_write_makes_a_folder_current(tmp_path: Path) -> None:
    """``write`` makes every file current and removes stray schemas; writing again changes nothing."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.v1.json").write_text("{}\n", encoding="utf-8")
    (target / "README.md").write_text("kept\n", encoding="utf-8")

    assert main(["write", "--dir", str(target)]) == 0
    assert schema_problems(target) == []
    assert not (target / "old.v1.json").exists()
    assert (target / "README.md").exists()
    assert write_schemas(target) == []
