"""The demo: a fresh local stack carries a few hundred events from every seed domain end to end.

It starts the stack, publishes the domains' events plus some broken ones through ingest, waits until every
accepted event is in the archive, prints what happened (accepted, rejected with reasons, objects and events
archived per type, queue and DLQ depths, throughput) and stops the stack. Exit status 0 means every
accepted event was archived exactly once and nothing is left in any queue.

While it runs, the stack's console (its address is printed first) shows the events flowing; at the end
the demo says how to bring up a stack that stays, and where its console will be.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tributary.client import StackClient
from tributary.demo_answers import print_answers
from tributary.lake.answers import print_lake_answers
from tributary.paths import default_data_dir
from tributary.producers import domain_events, invalid_events
from tributary.stack import Stack

DEMO_SERVICE_ENV = {"archiver": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "2000", "TRIBUTARY_RECEIVE_WAIT_S": "2"}}


class DemoFailed(RuntimeError):
    """The demo's end state is not what it should be."""


def run_demo(
    *, data_dir: Path | None = None, per_domain: int = 200, invalid: int = 20, timeout_s: float = 180.0
) -> None:
    """Run the demo on a fresh stack in a temporary folder under ``data_dir`` (default ``.tributary/``).

    Raises:
        DemoFailed: an accepted event was not archived exactly once, or a queue was left non-empty.
    """
    console = Console()
    parent = data_dir or default_data_dir()
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="demo-", dir=parent))
    try:
        started = time.monotonic()
        with Stack(data_dir=folder, service_env=DEMO_SERVICE_ENV) as stack:
            console.print(f"stack up in {time.monotonic() - started:.1f}s on {stack.emulator.endpoint}")
            description = stack.describe()
            if description.get("console_url"):
                console.print(f"watch it live while the demo runs: [bold]{description['console_url']}[/]")
            _run(console, StackClient(description), per_domain, invalid, timeout_s)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for line in where_to_look():
        console.print(line)


def where_to_look() -> list[str]:
    """What the demo prints last: its stack is gone, so how to get one that stays, and its console."""
    return [
        "[bold]where to look next[/]: the demo's stack has stopped. `make up` (or `tributary up`) brings up"
        " one that stays until Ctrl-C and prints its console address (also `console_url` in"
        " .tributary/stack.json): open it for the live pipeline, dead letters, series, graph and traces.",
        "Feed it with the examples (`.venv/bin/python examples/sensor_readings.py`, one per domain); for a"
        " deployed stack, `tributary console --stack-file <its stack.json>`.",
    ]


def _run(console: Console, client: StackClient, per_domain: int, invalid: int, timeout_s: float) -> None:
    valid = domain_events(per_domain)
    broken = [event for event, _ in invalid_events(invalid)]
    events = valid + broken
    random.Random(3).shuffle(events)
    t0 = time.monotonic()
    result = client.publish(events)
    published_s = time.monotonic() - t0
    accepted = {a["id"] for a in result.accepted}
    console.print(
        f"published {len(events)} events in {published_s:.1f}s: {len(accepted)} accepted, "
        f"{len(result.rejected)} rejected (HTTP {dict(result.statuses)})"
    )

    reasons = Counter(f"{e['loc'] or '<event>'}: {e['msg']}" for r in result.rejected for e in r["errors"])
    table = Table(title="rejected, by reason")
    table.add_column("field: reason")
    table.add_column("events", justify="right")
    for reason, n in reasons.most_common():
        table.add_row(reason[:110], str(n))
    console.print(table)

    archived: Counter[str] = Counter()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        entries = list(client.archived())
        archived = Counter(env["id"] for _, env in entries)
        if accepted <= set(archived):
            break
        time.sleep(1)
    archived_s = time.monotonic() - t0
    per_type: dict[str, Counter[str]] = {}
    for key, env in entries:
        per_type.setdefault(env["type"], Counter())[key] += 1
    table = Table(title="archived in S3, by type")
    for col in ("type", "objects", "events"):
        table.add_column(col, justify="left" if col == "type" else "right")
    for type_, objects in sorted(per_type.items()):
        table.add_row(type_, str(len(objects)), str(sum(objects.values())))
    console.print(table)

    depths = _drained(client, deadline)
    print_answers(console, client.description, valid)
    print_lake_answers(console, client.aws("s3"), client.description["bucket"])
    console.print(
        "queues (queue / DLQ depth): "
        + ", ".join(f"{svc} {d['queue']}/{d['dlq']}" for svc, d in depths.items())
    )
    missing = accepted - set(archived)
    twice = [i for i, n in archived.items() if n > 1]
    console.print(
        f"end to end: {len(accepted)} events archived in {archived_s:.1f}s "
        f"({len(accepted) / archived_s:.0f} events/s); missing {len(missing)}, duplicated {len(twice)}"
    )
    if missing or twice or any(d["queue"] or d["dlq"] for d in depths.values()):
        raise DemoFailed(f"missing={len(missing)} duplicated={len(twice)} depths={depths}")


def _drained(client: StackClient, deadline: float) -> dict[str, dict[str, int]]:
    """Queue and DLQ depths once every worker's queue is empty (or the deadline passed)."""
    while True:
        depths = client.depths()
        if not any(d["queue"] for d in depths.values()) or time.monotonic() > deadline:
            return depths
        time.sleep(1)
