"""graph_writer benchmark: printed, not asserted.

Run: ``.venv/bin/python bench/graph_bench.py [--trades 20000] [--emulator localstack|ministack|both]
[--no-stack]``

1. store only: edges/s into the embedded FalkorDB for the trade events, planned and written the way the worker
   does it, for worker batches of 100, 500 and 1,000 events and 100 or 200 rows per call, with every write
   fsynced (``appendfsync always``, the default) and once with ``everysec``; graph calls per event; the same
   batches again (every MERGE finds its match);
2. whole path on a local stack (ingest + graph_writer): edges/s from the first publish until every edge is
   readable through ``GET /graph/stats``, graph calls per event (from the worker's ``graph_written`` log
   lines), the worker's and its FalkorDB server's RSS.

Each trade has two or three player movements, each making a TRADED_TO and a LEFT edge.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from benchkit import json_log, publish, rss_mb, wait
from falkordb import FalkorDB

from contracts import Envelope
from graph_writer.adapters.falkor import FalkorGraphStore
from graph_writer.adapters.falkor_server import EmbeddedFalkorServer
from graph_writer.domain import plan, rows_of
from graph_writer.manifest import MANIFEST as GRAPH
from ingest.manifest import MANIFEST as INGEST
from tributary.client import StackClient
from tributary.emulators import make_emulator
from tributary.stack import Stack

TEAMS = [f"T{a}{b}" for a in "ABCDE" for b in "WXYZ"]  # 20 teams


def trade_events(count: int, *, tag: str, now: datetime, players: int = 5000) -> list[dict[str, Any]]:
    """``count`` trades with producer-set ids between 20 teams, among ``players`` players."""
    rng = random.Random(tag)  # noqa: S311  (seeded on purpose: reproducible data, not secrets)
    events = []
    for i in range(count):
        a, b = rng.sample(TEAMS, 2)
        moves = [(a, b), (b, a), (a, b)][: rng.randint(2, 3)]
        chosen = rng.sample(range(players), len(moves))
        events.append(
            {
                "id": f"bench-{tag}-{i:06d}",
                "type": "trade.completed",
                "version": 1,
                "source": "bench.graph",
                "time": (now - timedelta(seconds=rng.randint(0, 6 * 3600))).isoformat(),
                "data": {
                    "trade_id": f"trd-{tag}-{i}",
                    "season": "2025-26",
                    "movements": [
                        {"player_id": f"pl-{p}", "player_name": f"Player {p}", "from_team": f, "to_team": t}
                        for p, (f, t) in zip(chosen, moves, strict=True)
                    ],
                },
            }
        )
    return events


def edges_of(events: list[dict[str, Any]]) -> int:
    return 2 * sum(len(e["data"]["movements"]) for e in events)


def store_only(folder: Path, events: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    envelopes = [Envelope.model_validate(e | {"ingested_at": now}) for e in events]
    edges = edges_of(events)
    for fsync in ("always", "everysec"):
        server = EmbeddedFalkorServer(folder / f"falkor-{fsync}", appendfsync=fsync)
        server.start()
        db = FalkorDB(**server.client_kwargs())
        try:
            configs = (
                [(1000, 200), (500, 200), (100, 200), (1000, 100)] if fsync == "always" else [(1000, 200)]
            )
            for batch, rows in configs:
                graph = db.select_graph(f"bench_{batch}_{rows}")
                store = FalkorGraphStore(graph=graph, rows_per_call=rows)
                store.ensure_indexes()
                batches = [
                    plan(rows_of(e) for e in envelopes[s : s + batch])
                    for s in range(0, len(envelopes), batch)
                ]
                started = time.perf_counter()
                for planned in batches:
                    store.write(planned)
                elapsed = time.perf_counter() - started
                calls = store.write_calls
                again = time.perf_counter()
                for planned in batches:
                    store.write(planned)
                again_s = time.perf_counter() - again
                print(
                    f"store only (FalkorDB, appendfsync {fsync}, batches of {batch} events,"
                    f" {rows} rows/call): {edges / elapsed:,.0f} edges/s"
                    f" ({len(events) / elapsed:,.0f} events/s),"
                    f" {calls / len(events):.4f} graph calls/event;"
                    f" the same again {edges / again_s:,.0f} edges/s"
                )
                graph.delete()
        finally:
            db.close()
            server.stop()


def whole_path(folder: Path, emulator: str, events: list[dict[str, Any]]) -> None:
    data_dir = folder / f"stack-{emulator}"
    env = {"graph_writer": {"TRIBUTARY_RECEIVE_WAIT_S": "1"}}
    with Stack(
        data_dir=data_dir,
        emulator=make_emulator(emulator, data_dir),
        manifests=[INGEST, GRAPH],
        service_env=env,
    ) as stack:
        client = StackClient(stack.describe())
        url = client.description.get("graph_url") or client.description["services"]["graph_writer"]["url"]
        edges = edges_of(events)

        def stored() -> int:
            rels = httpx.get(f"{url}/graph/stats", timeout=60).json()["relationships"]
            return int(rels["TRADED_TO"] + rels["LEFT"])

        started = time.monotonic()
        publish(client, events)
        published_s = time.monotonic() - started
        done = wait(lambda: stored() == edges, timeout_s=1800)
        elapsed = time.monotonic() - started
        log = json_log(Path(client.description["services"]["graph_writer"]["log"]))
        writes = [e for e in log if e.get("event") == "graph_written"]
        batches = [e for e in log if e.get("event") == "graph_batch_written"]
        handled = [e for e in log if e.get("event") == "batch_handled"]
        calls = sum(e["calls"] for e in writes)
        pid = client.description["services"]["graph_writer"]["pids"][0]
        server_pid = int((data_dir / "services" / "graph_writer" / "falkordb" / "falkordb.pid").read_text())
        print(
            f"whole path ({emulator}, ingest + graph_writer): {len(events):,} trades published in"
            f" {published_s:.1f}s ({len(events) / published_s:,.0f}/s through ingest); all {edges:,} edges"
            f" readable after {elapsed:.1f}s: {edges / elapsed:,.0f} edges/s,"
            f" {len(events) / elapsed:,.0f} events/s end to end"
            f"{'' if done else ' (TIMED OUT)'}"
        )
        print(
            f"  graph calls per event: {calls / len(events):.4f} ({calls} calls over {len(batches)} batches,"
            f" mean batch {statistics.mean([b['events'] for b in batches] or [0]):.0f} events,"
            f" mean write {statistics.mean([w['ms'] for w in writes] or [0]):.0f} ms,"
            f" mean batch handled {statistics.mean([h['ms'] for h in handled] or [0]):.0f} ms)"
        )
        print(
            f"  RSS after the run: worker {rss_mb(pid):.0f} MB,"
            f" its FalkorDB server {rss_mb(server_pid):.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=20_000)
    parser.add_argument("--emulator", choices=["localstack", "ministack", "both"], default="both")
    parser.add_argument("--no-stack", action="store_true", help="store-only numbers only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="graph-bench-"))
    try:
        events = trade_events(args.trades, tag=uuid.uuid4().hex[:6], now=datetime.now(UTC))
        print(f"{args.trades:,} trade events, {edges_of(events):,} edges")
        store_only(folder, events)
        if not args.no_stack:
            for emulator in ("ministack", "localstack") if args.emulator == "both" else (args.emulator,):
                whole_path(folder, emulator, events)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
