"""The naive consumer the pipeline bench compares against: one message at a time, nothing batched.

Receive one message, write its event as one S3 object, delete that message; repeat until ``--count`` events
are stored or the queue stays empty for ``--idle-s``. It runs as its own process (so its memory is its own)
and prints one JSON line: events stored, seconds from its first receive to its last delete, peak RSS.

Run by ``bench/pipeline_bench.py``; by hand: ``.venv/bin/python bench/baseline.py --endpoint URL --queue URL
--bucket NAME --count N``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from tributary.aws import emulator_client


def consume(*, endpoint: str, queue: str, bucket: str, count: int, idle_s: float) -> dict[str, float]:
    sqs, s3 = emulator_client("sqs", endpoint), emulator_client("s3", endpoint)
    stored = 0
    first = last = idle_since = time.monotonic()
    while stored < count and time.monotonic() - idle_since < idle_s:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if not messages:
            continue
        if stored == 0:
            first = time.monotonic()
        message = messages[0]
        event = json.loads(message["Body"])  # the rule delivers the bus event: its ``detail`` is our envelope
        envelope = event.get("detail", event)
        s3.put_object(
            Bucket=bucket, Key=f"baseline/{envelope['id']}.json", Body=json.dumps(envelope).encode()
        )
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        stored += 1
        last = idle_since = time.monotonic()
    return {
        "stored": stored,
        "seconds": round(last - first, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--idle-s", type=float, default=10.0)
    args = parser.parse_args()
    result = consume(
        endpoint=args.endpoint, queue=args.queue, bucket=args.bucket, count=args.count, idle_s=args.idle_s
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
