"""``tributary lake tables|query|compact|check``: the archive as typed tables, the same SQL locally and
on AWS.

Where a query runs: on a local stack (``stack.json`` with an emulator endpoint) DuckDB over the archive
read from the emulator's S3; on a deployed stack (``aws_endpoint`` null), or with ``--profile``/``--region``,
or ``--engine athena``, Athena in the stack's workgroup (``<bus>-lake``) over its Glue database
(``<bus>_archive``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

import boto3
import typer
from rich.console import Console
from rich.table import Table as RichTable

from contracts.tables import contract_tables
from tributary.aws import stack_client
from tributary.lake.athena import AthenaLake, workgroup_name
from tributary.lake.compact import compact
from tributary.lake.conformance import check_archive
from tributary.lake.glue import database_name
from tributary.lake.local import LocalLake
from tributary.lake.named import named_queries, named_query
from tributary.lake.result import LakeError, QueryResult
from tributary.operators.cli_support import (
    Bucket,
    Bus,
    Json,
    Profile,
    Region,
    console,
    failures,
    logs_to_stderr,
    print_json,
    target_for,
)
from tributary.operators.letters import parse_when
from tributary.options import DataDir
from tributary.stack import read_stack_file

lake_app = typer.Typer(
    help="The archive as typed tables: list them, query them with SQL.", no_args_is_help=True
)


class Engine(StrEnum):
    auto = "auto"
    duckdb = "duckdb"
    athena = "athena"


EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="auto: DuckDB on a local stack, Athena on a deployed one (or with --profile/--region).",
    ),
]
Workgroup = Annotated[str | None, typer.Option("--workgroup", help="Athena workgroup [<bus>-lake].")]
Database = Annotated[str | None, typer.Option("--database", help="Glue database [<bus>_archive].")]

Lake = LocalLake | AthenaLake


@lake_app.command("tables")
def tables_command(as_json: Json = False) -> None:
    """Every typed table (one per contract version, plus one per array), with its columns and types."""
    described: list[dict[str, Any]] = [
        {
            "table": name,
            "contract": table.contract,
            "columns": [{"name": c.name, "type": c.type} for c in columns],
        }
        for table in contract_tables()
        for name, columns in table.all_tables()
    ]
    if as_json:
        print_json(described)
        return
    out = RichTable(title="lake tables (the same names and columns in DuckDB and Athena)")
    for column in ("table", "contract", "columns"):
        out.add_column(column)
    for entry in described:
        columns = ", ".join(f"{c['name']} {c['type']}" for c in entry["columns"])
        out.add_row(entry["table"], entry["contract"], columns)
    console.print(out)


@contextmanager
def open_lake(
    *,
    data_dir: Any,
    profile: str | None,
    region: str | None,
    bus: str,
    engine: Engine,
    workgroup: str | None,
    database: str | None,
) -> Iterator[Lake]:
    """The lake to query: the local stack's archive in DuckDB, or Athena."""
    if profile or region:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        yield AthenaLake(
            session.client("athena"),
            workgroup=workgroup or workgroup_name(bus),
            database=database or database_name(bus),
        )
        return
    info = read_stack_file(data_dir)
    endpoint, bus_name = info.get("aws_endpoint"), info.get("bus_name", bus)
    if engine == Engine.athena or (engine == Engine.auto and endpoint is None):
        yield AthenaLake(
            stack_client("athena", endpoint, region=info["region"]),
            workgroup=workgroup or workgroup_name(bus_name),
            database=database or database_name(bus_name),
        )
        return
    if endpoint is None:
        raise LakeError("--engine duckdb reads a local stack's archive; this stack is on AWS (use Athena)")
    lake = LocalLake(stack_client("s3", endpoint, region=info["region"]), info["bucket"])
    try:
        yield lake
    finally:
        lake.close()


def print_result(
    result: QueryResult,
    *,
    title: str = "",
    as_json: bool = False,
    limit: int | None = None,
    out: Console = console,
) -> None:
    """The rows as a table (or JSON records), and where the time went."""
    for note in result.notes:
        sys.stderr.write(f"note: {note}\n")
    if as_json:
        print_json(result.records())
        return
    table = RichTable(title=title or None)
    for column in result.columns:
        table.add_column(column)
    for row in result.rows[:limit]:
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)
    shown = f", {limit} shown" if limit is not None and len(result.rows) > limit else ""
    load = f", archive read in {result.load_s:.2f}s" if result.load_s else ""
    out.print(f"{len(result.rows)} rows{shown} ({result.engine}: query {result.query_s:.3f}s{load})")


@lake_app.command("query")
def query_command(
    sql: Annotated[str | None, typer.Argument(help="The SQL (omit with --named).")] = None,
    named: Annotated[
        str | None,
        typer.Option("--named", help="A shipped query: " + ", ".join(q.name for q in named_queries())),
    ] = None,
    data_dir: DataDir = None,
    engine: EngineOption = Engine.auto,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    workgroup: Workgroup = None,
    database: Database = None,
    as_json: Json = False,
) -> None:
    """Run SQL over the typed tables (``tributary lake tables``) and print the rows."""
    logs_to_stderr()
    with failures():
        if bool(sql) == bool(named):
            raise ValueError("give either SQL or --named NAME")
        text = named_query(named).sql if named else str(sql)
        with open_lake(
            data_dir=data_dir,
            profile=profile,
            region=region,
            bus=bus,
            engine=engine,
            workgroup=workgroup,
            database=database,
        ) as lake:
            result = lake.query(text)
    print_result(result, title=named or "", as_json=as_json)


@lake_app.command("compact")
def compact_command(
    before: Annotated[
        str, typer.Option("--before", help="Compact hours that ended by then: 2h, 2026-11-20T14:00Z.")
    ] = "1h",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be compacted.")] = False,
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    bucket: Bucket = None,
    as_json: Json = False,
) -> None:
    """Rewrite each closed hour's archive objects as one (each event once); replay and queries unchanged."""
    with failures():
        target = target_for(data_dir, profile, region, bus, bucket)
        report = compact(
            target.client("s3"), target.require_bucket(), before=parse_when(before), dry_run=dry_run
        )
    if as_json:
        print_json(asdict(report))
        return
    verb = "would compact" if dry_run else "compacted"
    console.print(
        f"{verb} {report.compacted} of {report.partitions} partitions ({report.open_partitions} still open): "
        f"{report.objects_read} objects → {report.compacted}, {report.events} events, "
        f"{report.duplicates} duplicate copies dropped, {report.objects_deleted} objects deleted"
    )
    for line in report.skipped:
        console.print(f"[yellow]skipped:[/] {line}")


@lake_app.command("check")
def check_command(
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    bucket: Bucket = None,
    as_json: Json = False,
) -> None:
    """Read every archived line as Athena would with the Glue tables' columns, types and SerDe; exit 1 on
    any mismatch."""
    with failures():
        target = target_for(data_dir, profile, region, bus, bucket)
        checks, orphans = check_archive(target.client("s3"), target.require_bucket())
    problems = orphans + [p for c in checks.values() for p in c.problems]
    if as_json:
        print_json(
            {
                "tables": {
                    n: {"objects": c.objects, "lines": c.lines, "problems": c.problems}
                    for n, c in checks.items()
                },
                "orphans": orphans,
            }
        )
    else:
        out = RichTable(title="archive against the Glue tables")
        for column in ("table", "objects", "lines", "problems"):
            out.add_column(column, justify="left" if column == "table" else "right")
        for name, check in sorted(checks.items()):
            out.add_row(name, str(check.objects), str(check.lines), str(len(check.problems)))
        console.print(out)
        for problem in problems[:50]:
            console.print(f"[red]{problem}[/]")
    if problems:
        raise typer.Exit(1)
