"""Checking envelopes (archived lines, bus details) against the published JSON Schemas.

Athena, Glue and producers in other languages read the archive through ``contracts/schemas/``; an archived
line is only readable if the envelope validates against ``envelope.json`` and its ``data`` against
``<type>.v<version>.json``, formats (``date-time``) included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from contracts.schemas import SCHEMA_DIR


@cache
def _validator(name: str) -> Draft202012Validator | None:
    path = SCHEMA_DIR / f"{name}.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def schema_violations(envelopes: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every way ``envelopes`` (as JSON documents) break the published schemas, one line per problem.

    Returns:
        ``"<id>: <where>: <message>"`` lines; empty when every envelope and its data validate.
    """
    envelope_schema = _validator("envelope")
    assert envelope_schema is not None, "contracts/schemas/envelope.json is missing"
    problems = []
    for envelope in envelopes:
        id_ = envelope.get("id", "<no id>")
        problems += [f"{id_}: {e.json_path}: {e.message}" for e in envelope_schema.iter_errors(envelope)]
        name = f"{envelope.get('type')}.v{envelope.get('version')}"
        data_schema = _validator(name)
        if data_schema is None:
            problems.append(f"{id_}: no published schema for {name}")
            continue
        data = envelope.get("data")
        problems += [f"{id_}: data{e.json_path[1:]}: {e.message}" for e in data_schema.iter_errors(data)]
    return problems
