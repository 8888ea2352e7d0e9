"""EventBridge Schema Registry entries from the checked-in contract schemas (``contracts/schemas``).

One schema per ``<type>.v<version>.json``, named like the ``DetailType`` it describes. The registry accepts
JSON Schema draft 4 and OpenAPI 3 only; the contracts are draft 2020-12, so each document is declared draft
4 with ``$defs`` renamed to ``definitions`` (the keywords the contracts use are common to both drafts).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk import aws_eventschemas as eventschemas
from constructs import Construct

DRAFT4 = "http://json-schema.org/draft-04/schema#"
_CONTRACT_FILE = re.compile(r"^(?P<detail_type>[a-z0-9_.]+\.v\d+)\.json$")


def to_draft4(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with draft-4 spelling: ``$schema`` and ``definitions`` (refs rewritten)."""
    text = json.dumps(document).replace('"#/$defs/', '"#/definitions/')
    converted: dict[str, Any] = json.loads(text)
    if "$defs" in converted:
        converted["definitions"] = converted.pop("$defs")
    converted["$schema"] = DRAFT4
    converted.pop("$id", None)
    return converted


class SchemaRegistry(Construct):
    """A registry named ``<bus>`` holding one schema per contract file in ``schemas_dir``."""

    def __init__(self, scope: Construct, id: str, *, bus_name: str, schemas_dir: Path) -> None:
        super().__init__(scope, id)
        self.registry = eventschemas.CfnRegistry(
            self, "Registry", registry_name=bus_name, description="Tributary event contracts"
        )
        self.schema_names: list[str] = []
        for path in sorted(schemas_dir.glob("*.json")):
            match = _CONTRACT_FILE.match(path.name)
            if not match:  # the envelope: described inside every event, not an event itself
                continue
            name = match["detail_type"]
            schema = eventschemas.CfnSchema(
                self,
                name,
                registry_name=bus_name,
                schema_name=name,
                type="JSONSchemaDraft4",
                content=json.dumps(to_draft4(json.loads(path.read_text(encoding="utf-8")))),
                description=f"Tributary contract {name}",
            )
            schema.node.add_dependency(self.registry)
            self.schema_names.append(name)
