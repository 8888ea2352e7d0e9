"""Tests of the evolution rules: the compatibility table, the snapshot check and ``release``."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.evolution import RELEASED_DIR, compare, evolution_problems, release
from contracts.schemas import SCHEMA_DIR

Change = Callable[[dict[str, Any]], None]


def _released() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((RELEASED_DIR / "sensor.reading.v2.json").read_text())
    return schema


def _add_optional(s: dict[str, Any]) -> None:
    s["properties"]["battery"] = {"anyOf": [{"type": "number"}, {"type": "null"}], "default": None}


def _remove(s: dict[str, Any]) -> None:
    del s["properties"]["site_id"]
    s["required"].remove("site_id")


def _retype(s: dict[str, Any]) -> None:
    s["$defs"]["Quantity"]["properties"]["value"] = {"type": "string"}


def _require_new(s: dict[str, Any]) -> None:
    s["properties"]["battery"] = {"type": "number"}
    s["required"].append("battery")


def _narrow_enum(s: dict[str, Any]) -> None:
    s["properties"]["quality"]["enum"] = ["good", "bad"]


def _tighten_pattern(s: dict[str, Any]) -> None:
    s["properties"]["metric"]["pattern"] = "^[a-z]+$"


COMPATIBILITY: list[tuple[str, Change, list[str]]] = [
    ("additive optional field", _add_optional, []),
    ("removed field", _remove, ["field 'site_id' breaks rule 'removed'"]),
    ("type change", _retype, ["field 'quantity.value' breaks rule 'type': type changed from ['number']"]),
    ("required field added", _require_new, ["field 'battery' breaks rule 'required': new field is required"]),
    ("enum narrowed", _narrow_enum, ["field 'quality' breaks rule 'enum': enum narrowed: no longer accepts"]),
    ("pattern changed", _tighten_pattern, ["field 'metric' breaks rule 'constraint': pattern changed"]),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in COMPATIBILITY], ids=[n for n, _, _ in COMPATIBILITY]
)
def test_compatibility_table(change: Change, expected: list[str]) -> None:
    """Each change to a released schema passes or fails with its own message naming field and rule."""
    current = copy.deepcopy(_released())
    change(current)
    messages = [str(v) for v in compare("sensor.reading.v2", _released(), current)]
    assert len(messages) == len(expected)
    for message, start in zip(messages, expected, strict=True):
        assert message.startswith(f"sensor.reading.v2: {start}"), message


def test_optional_field_made_required_is_refused() -> None:
    """Turning an optional field into a required one is a ``required`` violation too."""
    released = json.loads((RELEASED_DIR / "device.registered.v1.json").read_text())
    optional = sorted(set(released["properties"]) - set(released["required"]))[0]
    current = copy.deepcopy(released)
    current["required"].append(optional)
    [violation] = compare("device.registered.v1", released, current)
    assert (violation.field, violation.rule) == (optional, "required")
    assert "optional field made required" in violation.detail


def test_widened_type_is_allowed() -> None:
    """Accepting more than before (a nullable field) breaks nothing."""
    released = _released()
    current = copy.deepcopy(released)
    current["properties"]["site_id"] = {"anyOf": [released["properties"]["site_id"], {"type": "null"}]}
    assert compare("sensor.reading.v2", released, current) == []


def test_widening_a_column_type_breaks_the_table_rule() -> None:
    """An integer field that also accepts numbers passes the field rules but would turn the lake table's
    ``bigint`` column into ``double``: the ``table`` rule refuses it."""
    released = json.loads((RELEASED_DIR / "ops.dlq_depth.v1.json").read_text())
    current = copy.deepcopy(released)
    current["properties"]["depth"]["type"] = ["integer", "number"]
    [violation] = compare("ops.dlq_depth.v1", released, current)
    assert (violation.field, violation.rule) == ("ops_dlq_depth_v1.depth", "table")
    assert "from bigint to double" in violation.detail


def test_a_new_field_colliding_with_a_flattened_column_breaks_the_table_rule() -> None:
    """A new optional ``quantity_value`` would share its column with the flattened ``quantity.value``."""
    released = _released()
    current = copy.deepcopy(released)
    current["properties"]["quantity_value"] = {"anyOf": [{"type": "number"}, {"type": "null"}]}
    [violation] = compare("sensor.reading.v2", released, current)
    assert violation.rule == "table"
    assert "quantity_value" in violation.detail


def test_an_object_turned_free_form_breaks_the_table_rule() -> None:
    """Items that may now be strings are no longer a child table with typed columns."""
    released = json.loads((RELEASED_DIR / "order.placed.v1.json").read_text())
    current = copy.deepcopy(released)
    current["properties"]["items"]["items"] = {"anyOf": [{"$ref": "#/$defs/OrderItem"}, {"type": "string"}]}
    violations = compare("order.placed.v1", released, current)
    assert {v.rule for v in violations} == {"table"}
    assert "order_placed_v1_items.product_id" in {v.field for v in violations}


def test_repository_schemas_respect_their_released_snapshots() -> None:
    """The checked-in schemas break no rule against ``contracts/released``."""
    assert evolution_problems() == []


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    schemas, released = tmp_path / "schemas", tmp_path / "released"
    shutil.copytree(SCHEMA_DIR, schemas)
    shutil.copytree(RELEASED_DIR, released)
    return schemas, released


def test_check_names_a_removed_release(folders: tuple[Path, Path]) -> None:
    """A released version whose schema is gone is reported."""
    schemas, released = folders
    (schemas / "cat.sighting.v1.json").unlink()
    assert evolution_problems(schemas, released) == [
        "cat.sighting.v1: breaks rule 'released': a released version may not be removed"
    ]


def test_release_refuses_a_break_and_records_an_addition(folders: tuple[Path, Path]) -> None:
    """``release`` never snapshots a breaking change; an additive one becomes the new baseline."""
    schemas, released = folders
    path = schemas / "sensor.reading.v2.json"
    broken = json.loads(path.read_text())
    _narrow_enum(broken)
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="rule 'enum'"):
        release(schemas, released)
    added = _released()
    _add_optional(added)
    path.write_text(json.dumps(added))
    assert release(schemas, released) == [released / "sensor.reading.v2.json"]
    assert json.loads((released / "sensor.reading.v2.json").read_text()) == added
    assert evolution_problems(schemas, released) == []
