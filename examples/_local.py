"""What every example shares: finding the local stack (``make up`` writes ``.tributary/stack.json``),
building a publisher for it, and printing the per-event results.

Run an example from the repository root with the stack up:

    .venv/bin/python examples/sensor_readings.py          # through ingest (HTTP)
    .venv/bin/python examples/sensor_readings.py --bus    # straight to the bus (PutEvents)

``TRIBUTARY_STACK_FILE`` points at another ``stack.json``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3

from tributary_sdk import Event, Publisher, PublishResult

STACK_FILE = Path(__file__).resolve().parents[1] / ".tributary" / "stack.json"


def stack() -> dict[str, Any]:
    """The running local stack's description."""
    path = Path(os.environ.get("TRIBUTARY_STACK_FILE", STACK_FILE))
    if not path.exists():
        raise SystemExit(f"no local stack: {path} is missing (start one with `make up`)")
    description: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return description


def publisher(source: str) -> Publisher:
    """A publisher to the local stack: to the bus with ``--bus``, else through ingest as the stack's
    producer (``producer.key`` in ``stack.json``)."""
    description = stack()
    if "--bus" in sys.argv[1:]:
        client = boto3.client(
            "events",
            endpoint_url=description["aws_endpoint"],
            region_name=description["region"],
            aws_access_key_id="test",  # the emulators accept any key
            aws_secret_access_key="test",  # noqa: S106
        )
        return Publisher.to_bus(client=client, source=source, bus_name=description["bus_name"])
    return Publisher.to_ingest(
        description["ingest_url"], source=source, api_key=description["producer"]["key"]
    )


def publish(source: str, events: Sequence[Event]) -> None:
    """Publish ``events``, print one line per event, exit 1 if any failed."""
    with publisher(source) as p:
        results = p.publish(events)
    for result in results:
        print(_line(result))
    if not all(r.ok for r in results):
        raise SystemExit(1)


def _line(result: PublishResult) -> str:
    if result.ok:
        return f"#{result.index} {result.id}: published"
    return f"#{result.index} {result.id}: {result.code}: {result.message}"
