"""How the operator commands print: rich tables, progress bars and end-of-run summaries (or JSON)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tributary.operators.dlq import PurgeReport
from tributary.operators.health import QueueStatus, ServiceTopology, WorkerHealth
from tributary.operators.letters import Letter
from tributary.operators.redrive import RedriveReport
from tributary.operators.replay import ReplayReport


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def topology_table(rows: list[ServiceTopology], where: str) -> Table:
    table = Table(title=f"Tributary topology — {where}")
    for column in ("service", "consumes", "queue", "dlq", "rule", "problems"):
        table.add_column(column)
    for row in rows:
        rule = f"{row.rule} ({row.rule_state or 'missing'}) → {', '.join(row.rule_targets) or 'no target'}"
        table.add_row(
            row.name,
            "\n".join(row.consumes) or ("HTTP" if row.http else "—"),
            row.queue.name if row.queue else ("—" if row.rule is None else "[red]missing[/]"),
            row.queue.dlq_name if row.queue else "—",
            rule if row.rule else "—",
            "[red]" + "\n".join(row.problems) + "[/]" if row.problems else "",
        )
    return table


def status_tables(rows: list[QueueStatus], health: list[WorkerHealth], where: str) -> list[Table]:
    queues = Table(title=f"Queues — {where}")
    for column in ("service", "queue", "visible", "in flight", "delayed", "oldest", "age from"):
        queues.add_column(
            column, justify="right" if column in {"visible", "in flight", "delayed"} else "left"
        )
    for row in rows:
        if row.counts is None:
            queues.add_row(row.service, row.name, "", "", "", "", f"[red]{row.error}[/]")
            continue
        style = "[yellow]" if row.kind == "dlq" and row.counts.total else ""
        queues.add_row(
            row.service,
            f"{style}{row.name}",
            str(row.counts.visible),
            str(row.counts.in_flight),
            str(row.counts.delayed),
            age_text(row.age.seconds),
            row.age.source,
        )
    tables = [queues]
    workers = Table(title="Workers (/healthz)")
    for column in ("service", "url", "health", "restarts", "last exit"):
        workers.add_column(column)
    for h in health:
        workers.add_row(
            h.service,
            h.url,
            "[green]ok[/]" if h.ok else f"[red]{h.detail}[/]",
            str(h.restarts),
            h.last_exit or "—",
        )
    if not health:
        workers.add_row("—", "no service URLs here (stack.json lists them on a local stack)", "")
    tables.append(workers)
    return tables


def letters_table(letters: list[Letter], title: str) -> Table:
    table = Table(title=title)
    for column in ("event id", "type", "attempts", "reason", "error", "message", "failed at"):
        table.add_column(column, overflow="fold")
    for le in letters:
        table.add_row(
            le.event_id or "(none)",
            le.detail_type or "(no envelope)",
            le.reason.get("attempts", ""),
            le.reason.get("reason", ""),
            le.reason.get("error_type", ""),
            le.reason.get("error_message", "")[:200],
            le.failed_at.isoformat(timespec="seconds") if le.failed_at else "",
        )
    return table


def kinds_table(kinds: Counter[str], title: str, *, header: str = "detail-type · error") -> Table:
    table = Table(title=title)
    table.add_column(header)
    table.add_column("count", justify="right")
    for kind, count in kinds.most_common():
        table.add_row(kind, str(count))
    return table


def redrive_summary(report: RedriveReport, *, dry_run: bool) -> dict[str, Any]:
    return {
        "method": report.method,
        "destination": report.destination,
        "dry_run": dry_run,
        "scanned": report.scanned,
        "matched": report.matched,
        "moved": report.moved,
        "failed": report.failed,
        "delete_failed": report.delete_failed,
        "skipped": report.skipped,
        "released": report.released,
        "others_in_flight": report.others_in_flight,
        "elapsed_s": round(report.elapsed_s, 3),
        "rate_per_s": round(report.rate, 1),
        "kinds": dict(report.kinds),
        "failures": dict(report.failures),
        "notes": report.notes,
    }


def replay_summary(report: ReplayReport) -> dict[str, Any]:
    return {
        "destination": report.destination,
        "objects": report.objects,
        "events_read": report.events_read,
        "selected": report.selected,
        "published": report.published,
        "failed": report.failed,
        "not_consumed": report.not_consumed,
        "duplicates": report.duplicates,
        "elapsed_s": round(report.elapsed_s, 3),
        "rate_per_s": round(report.rate, 1),
        "types": dict(report.types),
        "failures": dict(report.failures),
    }


def print_redrive(console: Console, report: RedriveReport, *, dry_run: bool, selection: str) -> None:
    verb = "would move" if dry_run else "moved"
    console.print(f"[bold]redrive[/] → {report.destination} — {report.method}; selection: {selection}")
    moved = report.matched if dry_run else report.moved
    line = f"scanned {report.scanned}, matched {report.matched}, {verb} {moved}"
    if report.method.startswith("StartMessageMoveTask"):
        line = f"{verb} {moved} (the task moves every message)"
    console.print(f"  {line}, failed {report.failed}, not matching {report.skipped}")
    if dry_run:
        scan_rate = report.scanned / report.elapsed_s if report.elapsed_s else 0.0
        console.print(f"  scanned {report.scanned} in {report.elapsed_s:.1f}s: {scan_rate:.0f} letters/s")
    else:
        console.print(f"  {moved} in {report.elapsed_s:.1f}s: {report.rate:.0f} msg/s")
    if report.delete_failed:
        console.print(
            f"  [yellow]{report.delete_failed} delivered but not deleted: they will be delivered again[/]"
        )
    if report.others_in_flight:
        console.print(
            f"  [yellow]{report.others_in_flight} letters were in flight (another reader, or a killed run) "
            "and were not examined: run again once they are back, or use --wait-in-flight[/]"
        )
    if report.kinds:
        console.print(kinds_table(report.kinds, "by kind"))
    for why, count in report.failures.items():
        console.print(f"  [red]{count} failed: {why}[/]")


def print_purge(console: Console, report: PurgeReport, name: str) -> None:
    console.print(f"removed {report.removed} messages from {name} in {report.elapsed_s:.1f}s")
    if report.kinds:
        console.print(kinds_table(report.kinds, "removed"))
    if report.left_in_flight:
        console.print(f"[yellow]{report.left_in_flight} were in flight and were not removed[/]")


def print_replay(console: Console, report: ReplayReport, *, dry_run: bool) -> None:
    verb = "would publish" if dry_run else "published"
    count = report.selected if dry_run else report.published
    console.print(f"[bold]replay[/] → {report.destination}")
    console.print(
        f"  {report.objects} objects, {report.events_read} events read, {report.selected} selected, {verb} "
        f"{count}, failed {report.failed}, not consumed by the service {report.not_consumed}"
    )
    if dry_run:
        console.print(f"  read {report.events_read} events in {report.elapsed_s:.1f}s")
    else:
        console.print(f"  {count} in {report.elapsed_s:.1f}s: {report.rate:.0f} events/s")
    if report.types:
        console.print(kinds_table(report.types, "by detail-type", header="detail-type"))
    for why, n in report.failures.items():
        console.print(f"  [red]{n} failed: {why}[/]")


@contextmanager
def progress_bar(console: Console, description: str, *, enabled: bool = True) -> Iterator[Progress]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
    )
    with progress:
        progress.add_task(description, total=None, detail="")
        yield progress
