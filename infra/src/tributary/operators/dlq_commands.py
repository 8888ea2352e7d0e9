"""``tributary dlq list|peek|redrive|purge``: a thin layer over :mod:`~tributary.operators.dlq`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import typer

from tributary.operators import dlq as dlq_ops
from tributary.operators import health, render
from tributary.operators.cli_support import (
    Bus,
    Concurrency,
    Filters,
    Json,
    Profile,
    Rate,
    Region,
    Service,
    Since,
    console,
    failures,
    print_json,
    target_for,
)
from tributary.operators.letters import Selector
from tributary.operators.ratelimit import parse_rate
from tributary.operators.redrive import RedriveOptions, RedriveReport
from tributary.operators.scan import peek as peek_letters
from tributary.operators.scan import queue_counts
from tributary.options import DataDir

dlq_app = typer.Typer(help="Dead-letter queues: list, peek, redrive, purge.", no_args_is_help=True)


@dlq_app.command("list")
def dlq_list(
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    as_json: Json = False,
) -> None:
    """Every DLQ with its depth and oldest letter's age."""
    with failures():
        target = target_for(data_dir, profile, region, bus, None)
        rows = [r for r in health.queue_status(target) if r.kind == "dlq" or r.counts is None]
    if as_json:
        print_json([asdict(r) for r in rows])
    else:
        console.print(render.status_tables(rows, [], target.where)[0])


@dlq_app.command("peek")
def dlq_peek(
    service: Service,
    count: Annotated[int, typer.Option("-n", "--count", min=1, max=1000, help="How many letters.")] = 10,
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    as_json: Json = False,
) -> None:
    """Show letters with event id, type, attempts and failure reason; nothing is consumed."""
    with failures():
        target = target_for(data_dir, profile, region, bus, None)
        pair = target.queue_pair(service)
        letters = peek_letters(target.client("sqs"), pair.dlq_url, count=count)
    if as_json:
        print_json([le.summary() for le in letters])
    else:
        console.print(
            render.letters_table(letters, f"{pair.dlq_name}: {len(letters)} letters (released again)")
        )


def _redrive_progress(progress: Any, shown_notes: list[str]) -> Callable[[RedriveReport], None]:
    def update(report: RedriveReport) -> None:
        for note in report.notes[len(shown_notes) :]:
            console.print(f"[yellow]note:[/] {note}")
            shown_notes.append(note)
        task = progress.task_ids[0]
        if report.method.startswith("StartMessageMoveTask"):
            progress.update(task, completed=report.moved, detail=f"{report.rate:.0f} msg/s")
        else:
            progress.update(
                task,
                completed=report.scanned,
                detail=f"matched {report.matched} moved {report.moved} failed {report.failed} "
                f"{report.rate:.0f} msg/s",
            )

    return update


@dlq_app.command("redrive")
def dlq_redrive(
    service: Service,
    filters: Filters = None,
    since: Since = None,
    max_messages: Annotated[int | None, typer.Option("--max", min=1, help="Move at most this many.")] = None,
    rate: Rate = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Find and count; move nothing.")] = False,
    to: Annotated[
        str, typer.Option("--to", help="queue: the service's queue; bus: re-publish on the bus.")
    ] = "queue",
    by_message: Annotated[bool, typer.Option("--by-message", help="Never use StartMessageMoveTask.")] = False,
    visibility: Annotated[
        int,
        typer.Option("--visibility", min=5, max=43200, help="Seconds a seen letter stays hidden (a kill)."),
    ] = 120,
    wait_in_flight: Annotated[
        bool, typer.Option("--wait-in-flight", help="Wait for letters another reader (a killed run) holds.")
    ] = False,
    concurrency: Concurrency = 4,
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    as_json: Json = False,
) -> None:
    """Move letters back to the service's queue, or re-publish them on the bus; a summary at the end."""
    with failures():
        if to not in {"queue", "bus"}:
            raise ValueError(f"--to must be queue or bus, not {to!r}")
        destination: Literal["queue", "bus"] = "queue" if to == "queue" else "bus"
        selector = Selector.parse(filters or (), since)
        target = target_for(data_dir, profile, region, bus, None)
        pair = target.queue_pair(service)
        sqs = target.client("sqs")
        options = RedriveOptions(
            selector=selector,
            max_messages=max_messages,
            dry_run=dry_run,
            visibility_s=visibility,
            wait_in_flight=wait_in_flight,
            concurrency=concurrency,
        )
        total = queue_counts(sqs, pair.dlq_url).visible
        last: list[RedriveReport] = []

        def summary(report: RedriveReport) -> None:
            if as_json:
                print_json(render.redrive_summary(report, dry_run=dry_run))
            else:
                render.print_redrive(console, report, dry_run=dry_run, selection=selector.describe())

        with render.progress_bar(console, f"{pair.dlq_name}", enabled=not as_json) as progress:
            progress.update(progress.task_ids[0], total=total or None)
            show = _redrive_progress(progress, [])

            def on_progress(report: RedriveReport) -> None:
                last[:] = [report]
                if not as_json:
                    show(report)

            try:
                report = dlq_ops.redrive(
                    sqs=sqs,
                    events=target.client("events"),
                    pair=pair,
                    bus_name=target.bus_name,
                    to=destination,
                    options=options,
                    rate=parse_rate(rate),
                    by_message=by_message,
                    progress=on_progress,
                )
            except KeyboardInterrupt:
                if last:  # what was done before Ctrl-C (held letters are released by then)
                    progress.stop()
                    summary(last[0])
                raise
    summary(report)


@dlq_app.command("purge")
def dlq_purge(
    service: Service,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    filters: Filters = None,
    since: Since = None,
    save: Annotated[
        Path | None, typer.Option("--save", help="Write each letter here (NDJSON) first.")
    ] = None,
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
) -> None:
    """Delete letters from the service's DLQ (all, or those the filters select); prints what it removed."""
    with failures():
        selector = Selector.parse(filters or (), since)
        target = target_for(data_dir, profile, region, bus, None)
        pair = target.queue_pair(service)
        sqs = target.client("sqs")
        counts = queue_counts(sqs, pair.dlq_url)
        what = "every letter" if selector.takes_everything else f"the letters matching {selector.describe()}"
        if not yes and not typer.confirm(f"Delete {what} of {pair.dlq_name} (~{counts.visible} there)?"):
            console.print("nothing removed")
            raise typer.Exit(1)
        with ExitStack() as files:
            sink: IO[str] | None = files.enter_context(save.open("a", encoding="utf-8")) if save else None
            report = dlq_ops.purge(sqs=sqs, dlq_url=pair.dlq_url, selector=selector, save=sink)
    render.print_purge(console, report, pair.dlq_name)
    if save:
        console.print(f"saved to {save}")
