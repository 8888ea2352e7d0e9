"""The JSON Schemas of the contracts, generated from the pydantic models and checked in.

One file per contract, ``<type>.v<version>.json``, plus ``envelope.json``, in ``contracts/schemas/``.
Non-Python producers and consumers read these files; CI keeps them equal to the models:

    python -m contracts.schemas write [--dir DIR]   # regenerate (and remove schemas of no contract)
    python -m contracts.schemas check [--dir DIR]   # exit 1 naming every stale, missing or extra file,
                                                    # and every evolution rule broken (contracts.evolution)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts.envelope import Envelope, detail_type
from contracts.registry import contract_model, known_contracts

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_WRITE_COMMAND = "python -m contracts.schemas write"


def render_schemas() -> dict[str, str]:
    """The text of every schema file, keyed by file name.

    Keys are sorted, indented by two spaces and end with a newline, so the files diff cleanly.
    """
    models: dict[str, type[BaseModel]] = {"envelope": Envelope}
    models.update({detail_type(t, v): contract_model(t, v) for t, v in known_contracts()})
    return {f"{name}.json": _render(name, model) for name, model in models.items()}


def _render(name: str, model: type[BaseModel]) -> str:
    schema: dict[str, Any] = model.model_json_schema()
    schema.update({"$schema": _DIALECT, "$id": f"{name}.json", "title": name})
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema into ``directory`` and delete the ``*.json`` files there of no contract.

    Returns:
        The paths written or deleted, sorted.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    changed = []
    for path in sorted(directory.glob("*.json")):
        if path.name not in rendered:
            path.unlink()
            changed.append(path)
    for name, text in rendered.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return sorted(changed)


def schema_problems(directory: Path = SCHEMA_DIR) -> list[str]:
    """How the schema files in ``directory`` differ from the models, one line per file.

    Returns:
        ``"<path>: stale"``, ``"<path>: missing"`` or ``"<path>: extra (no such contract)"`` lines, sorted
        by path; empty when the files are current.
    """
    rendered = render_schemas()
    problems = {}
    for name, text in rendered.items():
        path = directory / name
        if not path.exists():
            problems[name] = f"{path}: missing"
        elif path.read_text(encoding="utf-8") != text:
            problems[name] = f"{path}: stale"
    for path in directory.glob("*.json"):
        if path.name not in rendered:
            problems[path.name] = f"{path}: extra (no such contract)"
    return [problems[name] for name in sorted(problems)]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m contracts.schemas``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m contracts.schemas", description="Write or check the contracts' JSON Schemas."
    )
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help=f"schema folder (default: {SCHEMA_DIR})")
    args = parser.parse_args(argv)
    directory: Path = args.dir
    if args.command == "write":
        for path in write_schemas(directory):
            print(f"updated {path}")
        return 0
    problems = schema_problems(directory)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        fix = _WRITE_COMMAND if directory == SCHEMA_DIR else f"{_WRITE_COMMAND} --dir {directory}"
        print(f"JSON Schemas are out of date with the models: run `{fix}`", file=sys.stderr)
        return 1
    from contracts.evolution import evolution_problems  # here: contracts.evolution imports this module

    broken = evolution_problems(directory)
    for problem in broken:
        print(problem, file=sys.stderr)
    if broken:
        print("a breaking change needs a new contract version and an upcaster", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
