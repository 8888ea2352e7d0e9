"""The operator commands ``topology``, ``status`` and ``replay`` (the DLQ ones are in :mod:`.dlq_commands`).

A thin layer: each command builds its :class:`~tributary.operators.target.Target` (the local stack from
``<data dir>/stack.json``, or AWS when ``--profile`` or ``--region`` is given), calls one function of the
operators package, and prints. ``cli.py`` registers them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from tributary.operators import health, render
from tributary.operators.cli_support import (
    Bucket,
    Bus,
    Concurrency,
    Json,
    Profile,
    Rate,
    Region,
    console,
    failures,
    print_json,
    target_for,
)
from tributary.operators.letters import parse_when
from tributary.operators.ratelimit import TokenBucket, parse_rate
from tributary.operators.replay import ArchiveQuery, BusPublisher, QueuePublisher, consumed_by, replay
from tributary.operators.target import queue_arn
from tributary.options import DataDir


def topology(
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    as_json: Json = False,
) -> None:
    """Services, the event types each consumes, their queues, DLQs and rules (checked on the endpoint)."""
    with failures():
        target = target_for(data_dir, profile, region, bus, None)
        rows = health.topology(target)
    if as_json:
        print_json([asdict(r) for r in rows])
    else:
        console.print(render.topology_table(rows, target.where))


def status(
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    peek_queues: Annotated[
        bool,
        typer.Option("--peek-queues", help="Peek source queues for their oldest age (counts as a receive)."),
    ] = False,
    as_json: Json = False,
) -> None:
    """Per queue and DLQ: visible, in flight, oldest message age (and from where); worker health."""
    with failures():
        target = target_for(data_dir, profile, region, bus, None)
        rows = health.queue_status(target, peek_queues=peek_queues)
        workers = health.worker_health(target.health_urls, restarts=target.restarts)
    if as_json:
        print_json({"queues": [asdict(r) for r in rows], "workers": [asdict(w) for w in workers]})
        return
    for table in render.status_tables(rows, workers, target.where):
        console.print(table)


def replay_command(
    since: Annotated[str, typer.Option("--since", help="Event time from (inclusive): 6h, 3d, 2026-11-01.")],
    from_archive: Annotated[
        bool, typer.Option("--from-archive", help="Read the archive (the only source).")
    ] = False,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="Repeatable: sensor.reading or sensor.reading.v1 [all]."),
    ] = None,
    until: Annotated[str, typer.Option("--until", help="Event time to (exclusive).")] = "now",
    to_service: Annotated[str | None, typer.Option("--to-service", help="Only this service's queue.")] = None,
    to_bus: Annotated[bool, typer.Option("--to-bus", help="The bus: every subscriber gets them.")] = False,
    rate: Rate = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be published.")] = False,
    concurrency: Concurrency = 4,
    data_dir: DataDir = None,
    profile: Profile = None,
    region: Region = None,
    bus: Bus = "tributary",
    bucket: Bucket = None,
    as_json: Json = False,
) -> None:
    """Re-publish archived events (backfill a new service with --to-service); a progress bar, a summary."""
    with failures():
        if not from_archive:
            raise ValueError("say where from: --from-archive (the only source so far)")
        if bool(to_service) == to_bus:
            raise ValueError("say where to: --to-service SERVICE or --to-bus")
        query = ArchiveQuery(since=parse_when(since), until=parse_when(until), types=tuple(types or ()))
        if query.since >= query.until:
            raise ValueError(f"--since ({query.since}) is not before --until ({query.until})")
        target = target_for(data_dir, profile, region, bus, bucket)
        publisher: BusPublisher | QueuePublisher
        consumes = None
        if to_service:
            sqs = target.client("sqs")
            url = target.queue_pair(to_service).url
            name = f"tributary-replay-{parse_when('now').strftime('%Y%m%dT%H%M%SZ')}"
            publisher = QueuePublisher(sqs=sqs, url=url, queue_arn=queue_arn(sqs, url), replay_name=name)
            manifest = target.manifest(to_service)
            consumes = consumed_by(manifest) if manifest else None
        else:
            publisher = BusPublisher(events=target.client("events"), bus_name=target.bus_name)
        with render.progress_bar(console, "archive objects", enabled=not as_json) as progress:
            task = progress.task_ids[0]
            report = replay(
                s3=target.client("s3"),
                bucket=target.require_bucket(),
                query=query,
                publisher=None if dry_run else publisher,
                dry_run_of=publisher,
                consumes=consumes,
                limiter=TokenBucket(r) if (r := parse_rate(rate)) else None,
                concurrency=concurrency,
                progress=lambda rep: progress.update(
                    task,
                    total=rep.objects,
                    completed=rep.objects_read,
                    detail=f"events {rep.published}/{rep.selected} {rep.rate:.0f}/s",
                ),
            )
    if as_json:
        print_json(render.replay_summary(report))
        return
    render.print_replay(console, report, dry_run=dry_run)
    if to_service and consumes is None:
        console.print(
            f"[yellow]note:[/] {to_service}'s manifest is not installed here, so every selected"
            " event was sent (with it, only the types it subscribes to are)"
        )
