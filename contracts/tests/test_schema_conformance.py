"""What the models accept is what the published JSON Schemas describe: a property over mutated samples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts import Envelope, detail_type, validate_data
from shared.testkit.samples import all_samples
from tests.support.archive_schemas import schema_violations

_TRICKY = st.sampled_from(
    [
        "21.5", "1e3", "yes", "true", "null", "", "2025-06-01 09:30:00Z", "2025-06-01T09:30:00Z",
        "1748737800", "0001-01-01T00:30:00+01:00", "a\x00b", "\ud800", "NaN", 1.0, 0, -1, 10**20, True,
    ]
)  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into ``value``, itself included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replace(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@pytest.mark.parametrize("sample", all_samples(), ids=lambda s: detail_type(s["type"], s["version"]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_a_contract_accepts_its_published_schema_accepts(
    sample: dict[str, Any], data: st.DataObject
) -> None:
    """Replace any part of a sample's data (or add a field) with arbitrary JSON: if the contract still
    accepts the event, the envelope line the archive would write validates against the JSON Schemas."""
    original = sample["data"]
    path = data.draw(st.sampled_from(_paths(original)[1:]) | st.tuples(st.text(max_size=8)), label="path")
    value = data.draw(_TRICKY | _JSON, label="value")
    mutated = _replace(original, path, value) if path in _paths(original) else original | {path[0]: value}
    try:
        validate_data(sample["type"], sample["version"], mutated)
    except ValidationError:
        return
    envelope = Envelope.model_validate(
        sample | {"data": mutated, "ingested_at": "2025-06-02T00:00:00Z", "trace": None}
    )
    assert schema_violations([json.loads(envelope.model_dump_json())]) == []
