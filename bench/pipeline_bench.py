"""The whole pipeline under load, against a naive consumer and the emulator's own ceiling: one JSON line each.

Run: ``make bench [EMULATOR=localstack|ministack] [BENCH_ARGS="--events 20000 --latency-s 30"]`` or
``.venv/bin/python bench/pipeline_bench.py [--emulator ministack] [--events N] [--latency-s S]
[--replicas 1,2,4] [--backlog N] [--scale-events N] [--baseline-events N] [--ceiling-events N] [--idle-s S]
[--no-write]``.

Scenarios, on one stack of all five services whose AWS calls go through the AWS proxy
(:mod:`tributary.awsproxy`), with the services' own batching settings, after an unreported warm-up run:

1. ``emulator_ceiling``: the emulator alone moving the same calls with the pipeline's fan-out (four queues,
   a rule each: ``bench/emulator_ceiling.py``), as many events as ``max_rate`` under the same ``--backlog``
   bound, and its CPU per event;
2. ``max_rate``: ``--events`` events (half ``sensor.reading``, half ``trade.completed``: every one reaches
   the archive and the notifier, readings the series store, trades the graph) published as fast as ingest
   takes them while no worker queue holds more than ``--backlog`` messages (``0``: flat out, whatever the
   backlog), sustained (the default 20,000 last well over 30 s); events/s from the first publish until
   every store holds every event; per store, when it was complete and the publish→stored latency
   percentiles; AWS calls per event per hop; store checks; CPU per event per service and for the emulator;
3. ``baseline``: a naive consumer (``bench/baseline.py``: receive 1, put 1 S3 object, delete 1) draining
   ``--baseline-events`` events from a queue of its own, filled after ``max_rate`` once the workers drained;
4. ``latency``: paced publishing at 50% and 90% of the measured rate for ``--latency-s`` each;
5. ``scale``: archiver and graph_writer at each ``--replicas`` count (replicas added to the running stack)
   with ``--scale-events`` new events: events/s per store, and proof each event is stored once;
6. ``memory``: peak RSS per service process (the kernel's high-water mark), FalkorDB's and the emulator's.

The services record traces as deployed (``--trace-sample-rate``: 5% of new traces after the first each
second), not every one as the local stack does for developers; traces go to the stack's collector, in this
process.

CPU per event comes from each process's ``/proc/<pid>/stat`` (user + system time of all its threads) before
and after the run, less its idle rate (its quietest second of ``--idle-s`` after the warm-up) times the
run's wall time; "cores busy" is the services' and the emulator's CPU seconds over the run's wall seconds.
``bench`` is this process: the publisher, the trackers' polls, the trace collector and the AWS proxy,
which production has not (``--no-proxy``: services call the emulator directly, and no calls are counted).

Every line also goes to ``bench/results/<YYYY-MM-DD>.json`` under the emulator's name (``--no-write``: not),
and the issue's figures are printed to stderr at the end as one table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from itertools import chain, zip_longest
from pathlib import Path
from typing import Any

import httpx
from bench_table import table
from benchkit import CpuMeter, idle_rates, peak_rss_mb, percentiles, wait
from emulator_ceiling import measure as measure_ceiling
from graph_bench import edges_of, trade_events
from series_bench import SOURCE, stored_points
from trackers import ArchiveTracker, CountTracker, Poller

from archiver.manifest import MANIFEST as ARCHIVER
from graph_writer.manifest import MANIFEST as GRAPH
from ingest.manifest import MANIFEST as INGEST
from notifier.manifest import MANIFEST as NOTIFIER
from shared.manifest import ServiceManifest, Subscription
from shared.settings import ServiceSettings
from shared.testkit.bulk import readings
from timeseries_writer.manifest import MANIFEST as SERIES
from tributary.client import StackClient
from tributary.emulators import EMULATORS, default_emulator_name, make_emulator
from tributary.operators.cli_support import logs_to_stderr
from tributary.provision import provision
from tributary.stack import Stack

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
BASELINE = ServiceManifest(
    name="baseline",
    consumes=tuple(Subscription(type=t, versions=(1,)) for t in ("sensor.reading", "trade.completed")),
)
MANIFESTS = [INGEST, ARCHIVER, GRAPH, SERIES, NOTIFIER]
DEPLOYED_SAMPLE_RATE = ServiceSettings.model_fields["trace_sample_rate"].default
SCALED = ("archiver", "graph_writer")
STORES = ("archive", "graph", "series", "notifier")


def emit(line: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    print(json.dumps(line), flush=True)
    lines.append(line)


class Sender:
    """Publishes events through ingest and remembers when each was sent and how many ingest accepted."""

    def __init__(self, client: StackClient) -> None:
        self._client = client
        self.sent: dict[str, float] = {}
        self.accepted = 0
        self._lock = threading.Lock()

    def _post(self, chunk: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        result = self._client.publish(chunk, per_request=len(chunk))
        with self._lock:
            self.sent.update((e["id"], now) for e in chunk)
            self.accepted += len(result.accepted)

    def flat_out(
        self,
        events: list[dict[str, Any]],
        *,
        chunk: int = 100,
        threads: int = 2,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        """As fast as ingest takes them, ``threads`` requests at a time; a chunk waits while ``ready()`` is
        false."""
        chunks = iter([events[i : i + chunk] for i in range(0, len(events), chunk)])
        lock = threading.Lock()

        def run() -> None:
            while True:
                while not ready():
                    time.sleep(0.05)
                with lock:
                    part = next(chunks, None)
                if part is None:
                    return
                self._post(part)

        workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def bounded(self, events: list[dict[str, Any]], *, backlog: int, depth: Callable[[], int]) -> None:
        """As :meth:`flat_out` while the deepest worker queue (``depth()``, sampled every 0.2 s) holds at
        most ``backlog`` messages: the rate the pipeline sustains, rather than how an emulator slows under a
        backlog that only grows (MiniStack scans every message of a queue on each call to it)."""
        deepest = [depth()]
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                deepest[0] = depth()

        watcher = threading.Thread(target=watch, name="bench-backlog", daemon=True)
        watcher.start()
        try:
            self.flat_out(events, ready=lambda: deepest[0] <= backlog)
        finally:
            done.set()
            watcher.join()

    def paced(self, events: list[dict[str, Any]], rate: float, tick_s: float = 0.2) -> None:
        """``rate`` events/s in chunks every ``tick_s``, each chunk sent on its own thread from a pool, so a
        slow answer from ingest does not lower the offered rate."""
        chunk = max(1, round(rate * tick_s))
        interval = chunk / rate
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            sent = []
            for k, first in enumerate(range(0, len(events), chunk)):
                delay = start + k * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                sent.append(pool.submit(self._post, events[first : first + chunk]))
            for future in sent:
                future.result()  # a failed publish fails the run


class Run:
    """The running stack and what the scenarios share: clients, the archive tracker, the proxy counts."""

    def __init__(self, stack: Stack, timeout_s: float) -> None:
        self.stack = stack
        self.client = StackClient(stack.describe())
        self.archive = ArchiveTracker(stack.client("s3"), stack.bucket)
        self.timeout_s = timeout_s
        description = self.client.description
        self.graph_url = description["graph_url"]
        self.series_url = description["series_url"]
        self.notifier_queue = description["queues"]["notifier"]["url"]
        self.idle: dict[int | None, float] = {}

    def pids(self) -> dict[str, list[int | None]]:
        """The processes whose CPU a run counts: every service replica, the emulator, this bench process."""
        services: dict[str, list[int | None]] = {
            name: [p.pid for p in procs] for name, procs in self.stack.supervisor.processes.items()
        }
        return services | {"emulator": [self.stack.emulator.pid], "bench": [os.getpid()]}

    def measure_idle(self, seconds: float) -> dict[str, float]:
        """Each process's CPU rate while nothing is published; ms of CPU per second, by name."""
        pids = self.pids()
        self.idle = idle_rates([pid for group in pids.values() for pid in group], seconds)
        return {name: round(1000 * sum(self.idle[p] for p in group), 1) for name, group in pids.items()}

    def deepest(self) -> int:
        """Messages in the deepest worker queue (visible, in flight and delayed)."""
        return max(self.client.queue_depth(q["url"]) for q in self.client.description["queues"].values())

    def edges(self) -> int:
        rels = httpx.get(f"{self.graph_url}/graph/stats", timeout=30).json()["relationships"]
        return int(rels.get("TRADED_TO", 0) + rels.get("LEFT", 0))

    def phase(self, tag: str, count: int, publish: Publish) -> dict[str, Any]:
        """Publish ``count`` new events with ``publish``, wait until every store holds them; the figures."""
        now = datetime.now(UTC)
        site = f"site-{tag}"
        reads = readings(count // 2, site=site, now=now, source=SOURCE, prefix=f"bench-{tag}-r")
        trades = trade_events(count - count // 2, tag=tag, now=now)
        events = [e for e in chain.from_iterable(zip_longest(reads, trades)) if e is not None]
        sender = Sender(self.client)
        counters = {
            "graph": CountTracker(self.edges),
            "series": CountTracker(lambda: stored_points(self.series_url, site, now)),
            "notifier": CountTracker(lambda: sender.accepted - self.client.queue_depth(self.notifier_queue)),
        }
        expected = {"graph": edges_of(trades), "series": len(reads), "notifier": len(events)}
        proxied = self.stack.proxied
        calls_before = self.stack.proxy.snapshot() if proxied else Counter()
        meter = CpuMeter(self.pids(), self.idle)
        with Poller([self.archive, *counters.values()]) as poller:
            meter.start()
            started = time.monotonic()
            publish(sender, events)
            published_s = time.monotonic() - started
            complete = wait(
                lambda: (
                    all(i in self.archive.first_seen for i in sender.sent)
                    and all(counters[s].latest >= expected[s] for s in counters)
                ),
                timeout_s=self.timeout_s,
            )
            meter.stop()
        calls = self.stack.proxy.snapshot() - calls_before if proxied else Counter()
        stores = self._stores(sender, counters, expected, events, reads, trades, started)
        done = [s["done_s"] for s in stores.values()]
        total_s = max(done) if complete and None not in done else None
        return {
            "events": len(events),
            "published_s": round(published_s, 2),
            "publish_events_per_s": round(len(events) / published_s, 1),
            "events_per_s": round(len(events) / total_s, 1) if total_s else None,
            "complete": complete,
            "stores": stores,
            "aws_calls_per_event": calls_per_event(calls, len(events)),
            **self._cpu(meter.figures(len(events))),
            "store_check": self._check(events, trades, counters["graph"]),
            "poll_errors": poller.errors[:5],
        }

    def _stores(
        self,
        sender: Sender,
        counters: dict[str, CountTracker],
        expected: dict[str, int],
        events: list[dict[str, Any]],
        reads: list[dict[str, Any]],
        trades: list[dict[str, Any]],
        started: float,
    ) -> dict[str, dict[str, Any]]:
        sent = sender.sent
        archived = [self.archive.first_seen.get(e["id"]) for e in events]
        seen = [at for at in archived if at is not None]
        archive_done = max(seen) - started if seen and len(seen) == len(archived) else None
        latencies = {
            "archive": self.archive.latencies({e["id"]: sent[e["id"]] for e in events}),
            "graph": counters["graph"].latencies(
                [sent[t["id"]] for t in trades], [edges_of([t]) for t in trades]
            ),
            "series": counters["series"].latencies([sent[r["id"]] for r in reads]),
            "notifier": counters["notifier"].latencies(sorted(sent[e["id"]] for e in events)),
        }
        done = {"archive": archive_done} | {
            name: next((t - started for t, n in tracker.samples if n >= expected[name]), None)
            for name, tracker in counters.items()
        }
        held = {"archive": len(reads) + len(trades), "graph": len(trades), "series": len(reads)}
        held["notifier"] = len(events)
        return {
            name: {
                "done_s": round(took, 2) if (took := done[name]) is not None else None,
                "events_per_s": round(held[name] / took, 1) if took else None,
                "latency_s": percentiles(latencies[name]),
            }
            for name in STORES
        }

    @staticmethod
    def _cpu(figures: dict[str, Any]) -> dict[str, Any]:
        """The meter's figures, with "cores busy" counting the stack only (services and emulator)."""
        per_event = figures["cpu_ms_per_event"]
        bench_ms = per_event.get("bench", 0.0)
        stack_ms = sum(ms for name, ms in per_event.items() if name != "bench")
        return figures | {"cpu_ms_per_event_stack": round(stack_ms, 3), "cpu_ms_per_event_bench": bench_ms}

    def _check(
        self, events: list[dict[str, Any]], trades: list[dict[str, Any]], graph: CountTracker
    ) -> dict[str, Any]:
        """Each event archived exactly once; the graph gained exactly one delivery's edges."""
        wait(lambda: self.client.depths()["archiver"]["queue"] == 0, timeout_s=60)
        self.archive.sample(time.monotonic())
        graph.sample(time.monotonic())
        copies = [self.archive.copies[e["id"]] for e in events]
        check = {
            "archive_missing": copies.count(0),
            "archive_duplicates": sum(1 for n in copies if n > 1),
            "graph_edges_expected": edges_of(trades),
            "graph_edges_new": graph.latest,
        }
        once = check["archive_missing"] == check["archive_duplicates"] == 0
        return check | {"once": once and check["graph_edges_new"] == check["graph_edges_expected"]}


def calls_per_event(calls: Counter[Any], events: int) -> dict[str, dict[str, float]]:
    """``{hop: {"total": x, "service:Operation": y}}`` calls per event."""
    out: dict[str, dict[str, float]] = {}
    for call, n in sorted(calls.items()):
        hop = out.setdefault(call.hop, {"total": 0.0})
        hop[f"{call.service}:{call.operation}"] = round(n / events, 4)
        hop["total"] = round(hop["total"] + n / events, 4)
    return out


Publish = Callable[[Sender, list[dict[str, Any]]], None]


def scenario(run: Run, name: str, tag: str, count: int, publish: Publish, **extra: Any) -> dict[str, Any]:
    figures = run.phase(tag, count, publish)
    replicas = {s: len(run.stack.supervisor.processes[s]) for s in SCALED}
    return {"scenario": name, "emulator": run.stack.emulator.name, "replicas": replicas, **extra, **figures}


def baseline(run: Run, count: int) -> dict[str, Any]:
    """The naive consumer draining ``count`` events from a queue of its own, filled (with the workers'
    queues, which drain them first) after the max-rate run: it meets a queue as deep as its run."""
    stack = run.stack
    extra = provision(
        sqs=stack.client("sqs"),
        events=stack.client("events"),
        s3=stack.client("s3"),
        bucket=stack.bucket,
        bus_name=stack.bus_name,
        manifests=[BASELINE],
    ).queues["baseline"]
    events = readings(count, site="site-base", now=datetime.now(UTC), source=SOURCE, prefix="bench-base")
    Sender(run.client).flat_out(events)
    wait(lambda: run.client.queue_depth(extra.url) >= count, timeout_s=60)
    stack.client("events").remove_targets(Rule=extra.rule_name, EventBusName=stack.bus_name, Ids=["queue"])
    wait(lambda: run.deepest() == 0, timeout_s=run.timeout_s)
    before = stack.proxy.snapshot()
    endpoint = stack.proxy.listen("baseline")
    argv = [sys.executable, str(BENCH / "baseline.py"), "--endpoint", endpoint, "--queue", extra.url]
    argv += ["--bucket", stack.bucket, "--count", str(count)]
    result = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    calls = Counter({c: n for c, n in (stack.proxy.snapshot() - before).items() if c.hop == "baseline"})
    return {
        "scenario": "baseline",
        "emulator": stack.emulator.name,
        "consumer": "receive 1, put 1 S3 object, delete 1",
        "events": result["stored"],
        "events_per_s": round(result["stored"] / result["seconds"], 1) if result["seconds"] else None,
        "aws_calls_per_event": calls_per_event(calls, max(1, result["stored"])),
        "peak_rss_mb": result["peak_rss_mb"],
    }


def memory(run: Run) -> dict[str, Any]:
    services = {
        name: [round(peak_rss_mb(p.pid), 1) for p in procs]
        for name, procs in run.stack.supervisor.processes.items()
    }
    falkordb = run.stack.data_dir / "services" / "graph_writer" / "falkordb" / "falkordb.pid"
    emulator_pid = run.stack.emulator.pid
    return {
        "scenario": "memory",
        "emulator": run.stack.emulator.name,
        "peak_rss_mb_per_replica": services,
        "falkordb_server_peak_rss_mb": round(peak_rss_mb(int(falkordb.read_text())), 1),
        "emulator_peak_rss_mb": round(peak_rss_mb(emulator_pid), 1) if emulator_pid else None,
    }


def write_results(emulator: str, args: argparse.Namespace, lines: list[dict[str, Any]]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}.json"
    existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    existing[emulator] = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {k: v for k, v in vars(args).items() if k != "no_write"},
        "scenarios": lines,
    }
    path.write_text(json.dumps(existing, indent=2) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator", choices=EMULATORS, default=default_emulator_name())
    parser.add_argument("--events", type=int, default=20_000, help="events of the sustained max-rate run")
    parser.add_argument("--scale-events", type=int, default=2000, help="events per scale run")
    parser.add_argument("--baseline-events", type=int, default=2000, help="events the naive consumer drains")
    parser.add_argument("--idle-s", type=float, default=6.0, help="seconds of 1 s idle windows")
    parser.add_argument("--latency-s", type=float, default=20.0, help="seconds of paced publishing per rate")
    parser.add_argument("--replicas", default="1,2,4", help="archiver and graph_writer replica counts")
    parser.add_argument(
        "--backlog",
        type=int,
        default=2000,
        help="max rate: publishing waits while a worker queue holds more messages (0: publish flat out)",
    )
    parser.add_argument(
        "--trace-sample-rate",
        type=float,
        default=DEPLOYED_SAMPLE_RATE,
        help="share of new traces the services record: as deployed (the local stack records every one: 1)",
    )
    parser.add_argument(
        "--ceiling-events", type=int, default=None, help="events of the emulator ceiling (default: --events)"
    )
    parser.add_argument("--timeout-s", type=float, default=600.0, help="per run, until every store is full")
    parser.add_argument("--no-write", action="store_true", help="print only, no bench/results file")
    parser.add_argument(
        "--no-proxy",
        action="store_true",
        help="services call the emulator directly: no AWS calls counted and no naive consumer, but the "
        "proxy's CPU (a relay of every call, in this process) is off the 2 cores",
    )
    args = parser.parse_args()
    logs_to_stderr()  # stdout carries only the JSON lines
    counts = sorted({int(n) for n in args.replicas.split(",")} | {1})
    lines: list[dict[str, Any]] = []
    ceiling_events = args.ceiling_events or args.events
    emit(measure_ceiling(args.emulator, ceiling_events, backlog=args.backlog or None), lines)

    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{args.emulator}-"))
    with Stack(
        data_dir=data_dir,
        emulator=make_emulator(args.emulator, data_dir),
        manifests=MANIFESTS,
        service_env={m.name: {"TRIBUTARY_TRACE_SAMPLE_RATE": str(args.trace_sample_rate)} for m in MANIFESTS},
        aws_proxy=not args.no_proxy,
        watch_dlqs_s=None,
    ) as stack:
        run = Run(stack, args.timeout_s)
        run.phase("warm", min(200, args.events), Sender.flat_out)  # warm-up: first calls, caches
        wait(lambda: all(d["queue"] == 0 for d in run.client.depths().values()), timeout_s=60)
        emit({"scenario": "idle", "cpu_ms_per_s": run.measure_idle(args.idle_s)}, lines)
        flood = args.backlog == 0
        at_max = partial(Sender.bounded, backlog=args.backlog, depth=run.deepest)
        top = scenario(
            run,
            "max_rate",
            "max",
            args.events,
            Sender.flat_out if flood else at_max,
            backlog=args.backlog,
            trace_sample_rate=args.trace_sample_rate,
        )
        emit(top, lines)
        if not args.no_proxy:  # the naive consumer's calls are counted by the proxy
            emit(baseline(run, min(args.baseline_events, args.events)), lines)
        rate = top["events_per_s"] or top["publish_events_per_s"]
        for share in (0.5, 0.9):
            offered = rate * share
            count = max(50, round(offered * args.latency_s))
            paced = partial(Sender.paced, rate=offered)
            tag = f"lat{round(share * 100)}"
            figures = scenario(
                run, "latency", tag, count, paced, share_of_max=share, offered_per_s=round(offered, 1)
            )
            emit(figures, lines)
        for n in counts[1:]:
            for service in SCALED:
                while len(stack.supervisor.processes[service]) < n:
                    stack.add_replica(service)
            emit(scenario(run, "scale", f"scale{n}", args.scale_events, Sender.flat_out), lines)
        emit(memory(run), lines)
    print(table(lines), file=sys.stderr)
    if not args.no_write:
        print(f"results: {write_results(args.emulator, args, lines)}", file=sys.stderr)


if __name__ == "__main__":
    main()
