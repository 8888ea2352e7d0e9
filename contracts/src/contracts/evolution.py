"""Contract evolution: what a released contract version may still become.

Released schemas are snapshots committed under ``contracts/released/<type>.v<version>.json``, written by
``tributary contracts release`` (:func:`release`). The check compares every current schema
(``contracts/schemas``) with its snapshot, so it works on a clean clone with no git history. Within a
released version only *optional* fields may be added. Each other change fails with a message naming the
field and the rule it breaks:

- ``removed``: a field that was there is gone;
- ``type``: a field accepts fewer JSON types than before;
- ``required``: a field became required (a new required field, or an optional one made required);
- ``enum``: a field accepts fewer values than before;
- ``constraint``: a field's pattern, format, bounds or length limits changed;
- ``released``: a released version no longer exists;
- ``table``: the version's typed lake table (:mod:`contracts.tables`) would lose a column or change a
  column's type (e.g. an integer field widened to a number: ``bigint`` → ``double``), which would break
  every query and the Glue table already deployed for it.

A breaking change is a new version; each version ``N > 1`` needs an upcaster from ``N - 1`` (``upcaster``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.registry import known_contracts
from contracts.schemas import SCHEMA_DIR
from contracts.tables import TableError, table_changes, table_for
from contracts.upcasting import has_upcaster

RELEASED_DIR = SCHEMA_DIR.parent / "released"
_CONTRACT_FILE = re.compile(r"^(?P<type>[a-z0-9_.]+)\.v(?P<version>\d+)\.json$")
_CONSTRAINTS = (
    "pattern",
    "format",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "multipleOf",
)

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    """One broken rule: which contract, which field (dotted; ``[]`` for array items), which rule, why."""

    contract: str
    field: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.contract}: field {self.field!r} breaks rule {self.rule!r}: {self.detail}"


def compare(contract: str, released: Schema, current: Schema) -> list[Violation]:
    """Every way ``current`` breaks the released schema ``released`` of ``contract``."""
    violations = list(_compare_object(contract, "", released, released, current, current))
    # The table rule backs the field rules up: it names what they allow but a deployed table cannot take.
    return violations or _compare_tables(contract, released, current)


def _compare_tables(contract: str, released: Schema, current: Schema) -> list[Violation]:
    """The ``table`` rule: the lake table of a released version keeps every column and its type."""
    match = _CONTRACT_FILE.match(f"{contract}.json")
    if match is None:
        return []
    type_, version = match["type"], int(match["version"])
    try:
        old = table_for(type_, version, released)
    except TableError:
        return []  # a snapshot that never had a table constrains none
    try:
        new = table_for(type_, version, current)
    except TableError as exc:
        return [Violation(contract, "", "table", str(exc))]
    return [Violation(contract, column, "table", why) for column, why in table_changes(old, new)]


def _resolve(root: Schema, node: Schema) -> Schema:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    resolved: Schema = target
    return _resolve(root, resolved)


def _variants(root: Schema, node: Schema) -> list[Schema]:
    node = _resolve(root, node)
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        return [v for option in options for v in _variants(root, option)]
    return [node]


def _types(root: Schema, node: Schema) -> set[str]:
    types: set[str] = set()
    for variant in _variants(root, node):
        kind = variant.get("type")
        if isinstance(kind, list):
            types.update(kind)
        elif isinstance(kind, str):
            types.add(kind)
        elif "enum" in variant or "const" in variant:
            types.update(type(v).__name__ for v in variant.get("enum", [variant.get("const")]))
        else:
            types.add("any")
    return types


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _compare_object(
    contract: str, path: str, old_root: Schema, old: Schema, new_root: Schema, new: Schema
) -> Iterator[Violation]:
    old, new = _resolve(old_root, old), _resolve(new_root, new)
    old_props: Mapping[str, Schema] = old.get("properties", {})
    new_props: Mapping[str, Schema] = new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in old_props:
        if name not in new_props:
            yield Violation(contract, _join(path, name), "removed", "a released field may not be removed")
    for name in sorted(new_required - old_required):
        what = "optional field made required" if name in old_props else "new field is required"
        yield Violation(contract, _join(path, name), "required", f"{what}; only optional fields may be added")
    for name, old_field in old_props.items():
        if name in new_props:
            yield from _compare_field(
                contract, _join(path, name), old_root, old_field, new_root, new_props[name]
            )


def _compare_field(
    contract: str, path: str, old_root: Schema, old: Schema, new_root: Schema, new: Schema
) -> Iterator[Violation]:
    old_types, new_types = _types(old_root, old), _types(new_root, new)
    if "any" not in new_types and not old_types <= new_types:
        yield Violation(
            contract, path, "type", f"type changed from {sorted(old_types)} to {sorted(new_types)}"
        )
        return
    old_variants, new_variants = _variants(old_root, old), _variants(new_root, new)
    old_enum = {json.dumps(v) for variant in old_variants for v in variant.get("enum", [])}
    new_enum = {json.dumps(v) for variant in new_variants for v in variant.get("enum", [])}
    if old_enum and new_enum and not old_enum <= new_enum:
        dropped = sorted(json.loads(v) for v in old_enum - new_enum)
        yield Violation(contract, path, "enum", f"enum narrowed: no longer accepts {dropped}")
    old_main, new_main = _main_variant(old_variants), _main_variant(new_variants)
    for key in _CONSTRAINTS:
        if old_main.get(key) != new_main.get(key):
            yield Violation(
                contract,
                path,
                "constraint",
                f"{key} changed from {old_main.get(key)!r} to {new_main.get(key)!r}",
            )
    if "object" in old_types:
        yield from _compare_object(contract, path, old_root, old_main, new_root, new_main)
    if "array" in old_types and "items" in old_main and "items" in new_main:
        yield from _compare_field(
            contract, f"{path}[]", old_root, old_main["items"], new_root, new_main["items"]
        )


def _main_variant(variants: list[Schema]) -> Schema:
    """The variant that is not ``null`` (``X | None`` fields are ``anyOf: [X, null]``)."""
    return next((v for v in variants if v.get("type") != "null"), variants[0])


def _contract_files(directory: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(directory.glob("*.json")) if _CONTRACT_FILE.match(p.name)}


def _load(path: Path) -> Schema:
    schema: Schema = json.loads(path.read_text(encoding="utf-8"))
    return schema


def evolution_problems(schemas_dir: Path = SCHEMA_DIR, released_dir: Path = RELEASED_DIR) -> list[str]:
    """Every evolution rule the current schemas break, one line each; empty when all is well.

    Compares each snapshot in ``released_dir`` with the schema of the same name in ``schemas_dir``, and
    checks that every registered version ``N > 1`` has an upcaster from ``N - 1``.
    """
    current = _contract_files(schemas_dir)
    problems: list[str] = []
    for name, snapshot in _contract_files(released_dir).items():
        contract = name.removesuffix(".json")
        if name not in current:
            problems.append(f"{contract}: breaks rule 'released': a released version may not be removed")
            continue
        problems.extend(str(v) for v in compare(contract, _load(snapshot), _load(current[name])))
    for type_, version in known_contracts():
        if version > 1 and not has_upcaster(type_, version - 1):
            problems.append(
                f"{type_}.v{version}: breaks rule 'upcaster': no upcaster from v{version - 1} "
                f"(register one with @upcaster({type_!r}, {version - 1}))"
            )
    return problems


def release(schemas_dir: Path = SCHEMA_DIR, released_dir: Path = RELEASED_DIR) -> list[Path]:
    """Snapshot every current contract schema into ``released_dir`` as the new "last released".

    Returns:
        The snapshot files written (new or changed), sorted.

    Raises:
        ValueError: if the current schemas break an evolution rule: a release never records a break.
    """
    problems = evolution_problems(schemas_dir, released_dir)
    if problems:
        raise ValueError("cannot release, evolution rules broken:\n" + "\n".join(problems))
    released_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, path in _contract_files(schemas_dir).items():
        target = released_dir / name
        text = path.read_text(encoding="utf-8")
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written
