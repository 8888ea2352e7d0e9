"""timeseries_writer's memory, phase by phase, in one fresh process: printed, not asserted.

Run: ``.venv/bin/python bench/series_memory.py [--events 20000] [--store-points 60000]``

The process does what ``tributary-service timeseries_writer`` does, with an in-memory queue in place of SQS
(no emulator): import the runtime and the service, load its settings, build it (the embedded DuckDB store,
an SQS client, the read API), serve the read API and query it once, then run the worker until it has
written ``--events`` sensor readings (EventBridge bodies, as a rule delivers them). After each phase it
prints the process's resident memory now (``VmRSS``) and at peak (``VmHWM``, what the pipeline bench
reports), and at the end two insert rates: the worker's events per second (wall and CPU) and the store's
points per CPU second alone (batches of 100 and 1,000 points, ``bench/series_bench.py``'s points).

The service logs to stdout as it does in a stack; send it to ``/dev/null`` and read the figures on stderr:
``.venv/bin/python bench/series_memory.py > /dev/null``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def report(phase: str, **extra: object) -> None:
    figures = {"phase": phase, "rss_mb": round(_status("VmRSS"), 1), "peak_mb": round(_status("VmHWM"), 1)}
    print(json.dumps(figures | extra), file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_series(port: int, params: dict[str, str]) -> dict[str, Any]:
    """``GET /series`` through http.client (which botocore imports anyway: httpx would add its own MBs)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/series?" + urllib.parse.urlencode(params))
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET /series: {response.status}")
    answer: dict[str, Any] = json.loads(body)
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--store-points", type=int, default=60_000, help="0: skip the store-only rate")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="series-memory-"))
    port = _free_port()
    os.environ.update(
        TRIBUTARY_QUEUE_URL="http://127.0.0.1:9/000000000000/series",  # never called: the queue is in memory
        TRIBUTARY_DLQ_URL="http://127.0.0.1:9/000000000000/series-dlq",
        TRIBUTARY_DATA_DIR=str(folder),
        TRIBUTARY_HTTP_PORT=str(port),
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{_free_port()}",  # as a stack sets them: traces sent, none read
        TRIBUTARY_TRACE_SAMPLE_RATE="1.0",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",  # noqa: S106 - an emulator's dummy credentials
    )
    report("python")

    import shared.run  # noqa: F401  # what the entry point imports before it knows the service
    from shared.logging import configure_logging
    from shared.manifest import load_manifest
    from shared.settings import WorkerSettings
    from shared.start import load_settings

    report("runtime imported")
    manifest = load_manifest("timeseries_writer")
    settings = load_settings(manifest)
    assert isinstance(settings, WorkerSettings)
    configure_logging(settings.service, settings.log_level)
    service = manifest.build(settings)
    report("service built", modules=len(sys.modules))

    from shared.metrics import Registry
    from shared.runner import ApiServer, build_worker
    from shared.testing import InMemoryQueue
    from shared.testkit.bulk import readings

    assert service.api is not None and service.handler is not None
    registry = Registry()
    server = ApiServer(
        service.api,
        host="127.0.0.1",
        port=port,
        check=lambda: {"ok": True},
        metrics=registry.exposition,
        limits=settings.server_limits(),
    )
    server.start()
    now = datetime.now(UTC)
    query = {"metric": "temperature", "site": "s1", "bucket": "1h", "agg": "avg"}
    window = {"from": (now - timedelta(hours=3)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    deadline = time.monotonic() + 30
    while True:
        try:
            get_series(port, query | window)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    report("api served a query", modules=len(sys.modules))

    queue = InMemoryQueue(visibility_timeout_s=settings.visibility_timeout_s)
    bodies = (  # made 500 at a time: the events in flight are the emulator's to hold, not this process's
        json.dumps({"detail-type": "sensor.reading.v1", "detail": event | {"ingested_at": now.isoformat()}})
        for chunk in range(0, args.events, 500)
        for event in readings(
            min(500, args.events - chunk),
            prefix=f"mem{chunk // 500}",
            source="bench.memory",
            site="s1",
            now=now,
        )
    )
    sent = threading.Event()

    def feed() -> None:  # the queue holds at most ~2,000 messages, as a worker's SQS queue would hand out
        for n, body in enumerate(bodies):
            while n % 500 == 0 and queue.depth > 1500:
                time.sleep(0.01)
            queue.send(body)
        sent.set()

    worker = build_worker(
        settings, queue=queue, handler=service.handler, registry=registry, consumes=service.consumes
    )
    thread = threading.Thread(target=worker.run, name="worker")
    wall, cpu = time.perf_counter(), time.process_time()
    thread.start()
    threading.Thread(target=feed, name="feeder", daemon=True).start()
    while not sent.is_set() or queue.depth:
        time.sleep(0.05)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    worker.stop()
    thread.join()
    stored = sum(bucket["count"] for bucket in get_series(port, query | window)["buckets"])
    report(
        f"worker wrote {args.events:,} events",
        stored=stored,
        events_per_s=round(args.events / wall),
        events_per_cpu_s=round(args.events / cpu),
        modules=len(sys.modules),
    )
    server.stop()
    service.close()
    if args.store_points:
        store_rate(folder, args.store_points)


def store_rate(folder: Path, total: int) -> None:
    """Points per CPU second into a fresh DuckDB file, the store alone, as the service configures it."""
    from series_bench import _points

    from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
    from timeseries_writer.bootstrap import SeriesSettings

    settings = SeriesSettings()  # the environment set in main
    rates = {}
    for batch in (100, 1000):
        store = DuckDBSeriesStore(
            folder / f"rate-{batch}.duckdb",
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
        )
        batches = [_points(start, batch) for start in range(0, total, batch)]
        cpu = time.process_time()
        for points in batches:
            store.write(points)
        rates[f"points_per_cpu_s_batch_{batch}"] = round(total / (time.process_time() - cpu))
        store.close()
    report(f"store alone, {total:,} points twice", **rates)


if __name__ == "__main__":
    main()
