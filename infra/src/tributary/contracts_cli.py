"""``tributary contracts``: the schema catalogue and the evolution rules.

- ``list``: every contract version, with whether it is released;
- ``show TYPE [--version N]``: a contract's JSON Schema (the newest version by default);
- ``check``: the schemas are current and break no evolution rule against ``contracts/released``;
- ``release``: snapshot the current schemas as the last released ones (refused if a rule is broken).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts import detail_type, known_contracts
from contracts.evolution import RELEASED_DIR, evolution_problems, release
from contracts.schemas import SCHEMA_DIR, schema_problems

contracts_app = typer.Typer(help="The contract catalogue and its evolution rules.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

SchemasDir = Annotated[Path, typer.Option("--schemas-dir", help="current schemas")]
ReleasedDir = Annotated[Path, typer.Option("--released-dir", help="released snapshots")]


@contracts_app.command("list")
def list_() -> None:
    """Every contract type and version, and whether it is released."""
    table = Table(title="Tributary contracts")
    for column in ("type", "version", "detail-type", "released"):
        table.add_column(column)
    for type_, version in known_contracts():
        name = detail_type(type_, version)
        released = "yes" if (RELEASED_DIR / f"{name}.json").exists() else "no"
        table.add_row(type_, str(version), name, released)
    console.print(table)


@contracts_app.command()
def show(
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="e.g. sensor.reading")],
    version: Annotated[int | None, typer.Option("--version", "-v", help="[default: the newest]")] = None,
) -> None:
    """Print a contract's JSON Schema."""
    versions = [v for t, v in known_contracts() if t == type_]
    if not versions:
        errors.print(f"unknown contract type {type_!r}; `tributary contracts list` shows them")
        raise typer.Exit(1)
    chosen = version if version is not None else max(versions)
    path = SCHEMA_DIR / f"{detail_type(type_, chosen)}.json"
    if chosen not in versions or not path.exists():
        errors.print(f"{type_} has no version {chosen}; known versions: {versions}")
        raise typer.Exit(1)
    print(json.dumps(json.loads(path.read_text(encoding="utf-8")), indent=2))


@contracts_app.command()
def check(schemas_dir: SchemasDir = SCHEMA_DIR, released_dir: ReleasedDir = RELEASED_DIR) -> None:
    """Fail if a schema file is stale or a contract breaks an evolution rule."""
    problems = schema_problems(schemas_dir) or evolution_problems(schemas_dir, released_dir)
    for problem in problems:
        errors.print(problem, markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"{len(known_contracts())} contract versions follow the evolution rules")


@contracts_app.command("release")
def release_(schemas_dir: SchemasDir = SCHEMA_DIR, released_dir: ReleasedDir = RELEASED_DIR) -> None:
    """Record the current schemas as the last released ones (contracts/released)."""
    stale = schema_problems(schemas_dir)
    if stale:
        for problem in stale:
            errors.print(problem, markup=False, highlight=False)
        raise typer.Exit(1)
    try:
        written = release(schemas_dir, released_dir)
    except ValueError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from exc
    for path in written:
        console.print(f"released {path.name}")
    if not written:
        console.print("nothing new to release")
