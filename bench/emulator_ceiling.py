"""The emulator's own ceiling for the skeleton's calls: PutEvents → rule → SQS queue → receive + delete.

Printed, not asserted: one JSON line per emulator. Four threads put ``--events`` events in PutEvents calls of
10 (as ingest does), while four threads receive (10 per call, long poll) and delete in batches of 10 (as a
worker does); events/s is counted from the first put until the last event is deleted. This is the ceiling an
end-to-end figure on the same emulator and the same 2 cores is compared with.

Run: ``.venv/bin/python bench/emulator_ceiling.py [--events 3000] [--emulator localstack|ministack|both]``
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

from shared.manifest import ServiceManifest, Subscription
from tributary.aws import emulator_client
from tributary.emulators import EMULATORS, make_emulator
from tributary.provision import provision

SINK = ServiceManifest(name="sink", consumes=(Subscription(type="bench.tick", versions=(1,)),))


def measure(emulator_name: str, events: int, threads: int = 4) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"ceiling-{emulator_name}-"))
    emulator = make_emulator(emulator_name, data_dir)
    emulator.start()
    try:
        clients = {name: emulator_client(name, emulator.endpoint) for name in ("sqs", "events", "s3")}
        topology = provision(
            **clients, bucket=f"ceiling-{int(time.time())}", bus_name="ceiling", manifests=[SINK]
        )
        url = topology.queues["sink"].url
        done = threading.Event()
        deleted = 0
        lock = threading.Lock()

        def put(start: int) -> None:
            for first in range(start, events, 10 * threads):
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

        def drain() -> None:
            nonlocal deleted
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
                    deleted += len(messages)
                    if deleted >= events:
                        done.set()

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=threads * 2) as pool:
            drains = [pool.submit(drain) for _ in range(threads)]
            puts = [pool.submit(put, i * 10) for i in range(threads)]
            for f in puts:
                f.result()
            put_s = time.monotonic() - started
            done.wait(timeout=600)
            done.set()
            for f in drains:
                f.result()
        total_s = time.monotonic() - started
        return {
            "scenario": "emulator_ceiling",
            "emulator": emulator_name,
            "events": events,
            "put_events_per_s": round(events / put_s, 1),
            "end_to_end_events_per_s": round(min(deleted, events) / total_s, 1),
            "delivered": deleted,
        }
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--emulator", choices=[*EMULATORS, "both"], default="both")
    args = parser.parse_args()
    for name in EMULATORS if args.emulator == "both" else [args.emulator]:
        print(json.dumps(measure(name, args.events)), flush=True)


if __name__ == "__main__":
    main()
