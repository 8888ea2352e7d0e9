"""CPU per SQS call of the two ways :class:`~shared.sqs.SqsQueue` reaches SQS: a boto3 client and the lean
JSON caller (:mod:`shared.awsjson`), on one emulator, one after the other, in this process.

Each round sends ``--messages`` messages, then receives them ten at a time and deletes each ten with one
batch call, as a worker does; the figure is this process's CPU time (user + system) per call, which is what
a worker pays per call whatever the emulator's speed. Printed as one JSON line per caller and round.

Run: ``.venv/bin/python bench/wire_bench.py [--emulator ministack|localstack] [--messages 3000] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from shared.aws import client, json_api
from shared.sqs import SqsQueue
from tributary.aws import EMULATOR_CREDENTIALS, emulator_client
from tributary.emulators import EMULATORS, make_emulator


def round_of(queue: SqsQueue, sqs: object, url: str, messages: int) -> dict[str, float]:
    for first in range(0, messages, 10):
        entries = [{"Id": str(i), "MessageBody": "x" * 600} for i in range(min(10, messages - first))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[attr-defined]
    calls = received = 0
    started = time.process_time()
    while received < messages:
        got = queue.receive(max_messages=10, wait_s=1)
        calls += 1
        if got:
            assert queue.delete(got) == []
            calls += 1
            received += len(got)
    cpu_s = time.process_time() - started
    return {"calls": calls, "cpu_ms_per_call": round(1000 * cpu_s / calls, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator", choices=EMULATORS, default="ministack")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    emulator = make_emulator(args.emulator, Path(tempfile.mkdtemp(prefix="wire-")))
    emulator.start()
    try:
        os.environ |= {
            "AWS_ENDPOINT_URL": emulator.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["aws_secret_access_key"],
        }
        sqs = emulator_client("sqs", emulator.endpoint)
        url = sqs.create_queue(QueueName="wire")["QueueUrl"]
        dlq = sqs.create_queue(QueueName="wire-dlq")["QueueUrl"]
        queues = {
            "boto3": SqsQueue(client=client("sqs"), queue_url=url, dlq_url=dlq),
            "awsjson": SqsQueue(api=json_api("sqs"), queue_url=url, dlq_url=dlq),
        }
        for n in range(args.rounds):
            for name, queue in queues.items():
                line = {"caller": name, "round": n + 1, "messages": args.messages, "emulator": args.emulator}
                print(json.dumps(line | round_of(queue, sqs, url, args.messages)), flush=True)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
