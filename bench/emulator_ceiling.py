"""The emulator's own ceiling for the pipeline's calls: PutEvents → a rule per queue → SQS → receive + delete.

Printed, not asserted: one JSON line per emulator. The fan-out is the pipeline's: ``--queues`` queues (four:
archiver, graph_writer, timeseries_writer, notifier), each with its own rule matching every event. Four
threads put ``--events`` events in PutEvents calls of 10 (as ingest does), while two threads per queue
receive (10 per call, long poll) and delete in batches of 10 (as a worker does); events/s is counted from the
first put until every queue has had every event deleted. The emulator's CPU milliseconds per event (its idle
rate over a quiet second subtracted) are measured over the same window. This is the ceiling an end-to-end
figure on the same emulator and the same 2 cores is compared with.

With ``--backlog N`` the puts wait while a queue holds more than ``N`` undeleted events, as the pipeline's
max-rate run keeps its queues: MiniStack's queue calls cost in proportion to a queue's depth, so a ceiling
whose queues grow without bound would measure that, not the emulator's rate.

Run: ``.venv/bin/python bench/emulator_ceiling.py [--events 3000] [--queues 4] [--backlog N]
[--emulator localstack|ministack|both]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchkit import CpuMeter, idle_rates

from shared.manifest import ServiceManifest, Subscription
from tributary.aws import emulator_client
from tributary.emulators import EMULATORS, make_emulator
from tributary.provision import provision

PIPELINE_QUEUES = 4


def sinks(queues: int) -> list[ServiceManifest]:
    """``queues`` consumers of every tick: one queue and one rule each."""
    tick = (Subscription(type="bench.tick", versions=(1,)),)
    return [ServiceManifest(name=f"sink{n}", consumes=tick) for n in range(queues)]


def measure(
    emulator_name: str,
    events: int,
    threads: int = 4,
    queues: int = PIPELINE_QUEUES,
    backlog: int | None = None,
) -> dict[str, Any]:
    """The ceiling over ``events``; with ``backlog``, puts wait while a queue holds more than that many
    undeleted events (what the pipeline's max-rate run allows its queues)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"ceiling-{emulator_name}-"))
    emulator = make_emulator(emulator_name, data_dir)
    emulator.start()
    try:
        clients = {name: emulator_client(name, emulator.endpoint) for name in ("sqs", "events", "s3")}
        manifests = sinks(queues)
        topology = provision(
            **clients, bucket=f"ceiling-{int(time.time())}", bus_name="ceiling", manifests=manifests
        )
        urls = [topology.queues[m.name].url for m in manifests]
        done = threading.Event()
        deleted = dict.fromkeys(urls, 0)
        lock = threading.Lock()
        idle = idle_rates([emulator.pid], 1.0)
        meter = CpuMeter({"emulator": [emulator.pid]}, idle)

        put_count = [0]

        def held() -> int:
            with lock:
                return put_count[0] - min(deleted.values())

        def put(start: int) -> None:
            for first in range(start, events, 10 * threads):
                while backlog is not None and held() > backlog:
                    time.sleep(0.01)
                entries = [
                    {
                        "EventBusName": "ceiling",
                        "Source": "bench",
                        "DetailType": "bench.tick.v1",
                        "Detail": json.dumps({"id": str(i), "n": i}),
                    }
                    for i in range(first, min(first + 10, events))
                ]
                clients["events"].put_events(Entries=entries)
                with lock:
                    put_count[0] += len(entries)

        def drain(url: str) -> None:
            while not done.is_set():
                got = clients["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                messages = got.get("Messages", [])
                if not messages:
                    continue
                clients["sqs"].delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                    ],
                )
                with lock:
                    deleted[url] += len(messages)
                    if min(deleted.values()) >= events:
                        done.set()

        drainers = [url for url in urls for _ in range(2)]
        meter.start()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=threads + len(drainers)) as pool:
            drains = [pool.submit(drain, url) for url in drainers]
            puts = [pool.submit(put, i * 10) for i in range(threads)]
            for f in puts:
                f.result()
            put_s = time.monotonic() - started
            done.wait(timeout=600)
            done.set()
            for f in drains:
                f.result()
        total_s = time.monotonic() - started
        meter.stop()
        delivered = min(deleted.values())
        return {
            "scenario": "emulator_ceiling",
            "emulator": emulator_name,
            "events": events,
            "queues": queues,
            "backlog": backlog,
            "put_events_per_s": round(events / put_s, 1),
            "end_to_end_events_per_s": round(min(delivered, events) / total_s, 1),
            "delivered_per_queue": delivered,
            "emulator_idle_cpu_ms_per_s": round(1000 * idle[emulator.pid], 1),
            **meter.figures(events),
        }
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--queues", type=int, default=PIPELINE_QUEUES, help="fan-out: one rule per queue")
    parser.add_argument("--backlog", type=int, default=None, help="puts wait while a queue holds more")
    parser.add_argument("--emulator", choices=[*EMULATORS, "both"], default="both")
    args = parser.parse_args()
    for name in EMULATORS if args.emulator == "both" else [args.emulator]:
        print(json.dumps(measure(name, args.events, queues=args.queues, backlog=args.backlog)), flush=True)


if __name__ == "__main__":
    main()
