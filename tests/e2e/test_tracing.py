"""One X-Ray trace from producer to every store, on the running stack's collector (``traces.jsonl``).

A ``sensor.reading`` is consumed by every worker, so one event must yield the ingest segment and one stored
segment per worker, all in the producer's trace, each worker's segment parented on the PutEvents call
that carried the event, each holding its store calls.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.manifest import load_manifests
from shared.testkit.samples import fresh_sample
from shared.testkit.waiting import wait_for
from shared.tracing import TraceContext, new_trace_header
from tributary.client import StackClient

pytestmark = pytest.mark.e2e

CALLER = "feedfacecafebeef"
STORE_CALLS = {
    "archiver": {"S3", "SQS"},  # and its idempotency ledger: see _store_calls
    "graph_writer": {"FalkorDB", "SQS"},
    "timeseries_writer": {"DuckDB", "SQS"},
    "notifier": {"SQS"},  # its state store is called only for readings that match a rule
}


def _store_calls(worker: str, stack_description: dict[str, Any]) -> set[str]:
    """The calls a worker's segment must hold: the archiver's ledger is DynamoDB where the stack's state
    backend is (MiniStack, AWS), its SQLite file elsewhere."""
    if worker != "archiver":
        return STORE_CALLS[worker]
    ledger = "DynamoDB" if stack_description.get("state_backend") == "dynamodb" else "SQLite"
    return STORE_CALLS[worker] | {ledger}


@pytest.fixture
def traces(stack_description: dict[str, Any]) -> Path:
    if "traces" not in stack_description:
        pytest.skip("the given stack file names no trace collector")
    return Path(stack_description["traces"])


def _workers(stack_description: dict[str, Any]) -> set[str]:
    """The running workers that consume sensor.reading v1."""
    return {
        m.name
        for m in load_manifests()
        if m.name in stack_description["queues"]
        and any(s.type in ("*", "sensor.reading") for s in m.consumes)
    }


def _segments(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}")]


def _reading() -> dict[str, Any]:
    """A reading every worker stores (a recent time: the series store refuses points past its retention)."""
    return fresh_sample("sensor.reading", 1)


def _complete(
    path: Path, event_ids: set[str], workers: set[str]
) -> dict[str, dict[str, dict[str, Any]]] | None:
    """Per event id, its stored segment per worker, once every worker stored every event."""
    found: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in event_ids}
    for segment in _segments(path):
        annotations = segment.get("annotations", {})
        if annotations.get("event_id") in found and annotations.get("outcome") == "stored":
            found[annotations["event_id"]][segment["name"]] = segment
    return found if all(set(by_worker) == workers for by_worker in found.values()) else None


def _puts(path: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Every PutEvents subsegment id → (its ingest segment, the subsegment)."""
    return {
        sub["id"]: (segment, sub)
        for segment in _segments(path)
        if segment["name"] == "ingest"
        for sub in segment.get("subsegments", [])
        if sub.get("aws", {}).get("operation") == "PutEvents"
    }


def test_one_event_is_one_trace_from_ingest_to_every_store(
    stack_description: dict[str, Any], traces: Path
) -> None:
    """ingest continues the caller; each worker's segment hangs under the PutEvents call; stores show up."""
    event = _reading()
    header = new_trace_header().replace(";Sampled=1", f";Parent={CALLER};Sampled=1")
    response = httpx.post(
        stack_description["ingest_url"] + "/v1/events",
        json={"events": [event]},
        headers={"X-Amzn-Trace-Id": header} | StackClient(stack_description).ingest_headers(),
        timeout=10,
    )
    assert response.status_code == 202
    root = TraceContext.parse(header).root
    assert TraceContext.parse(response.headers["x-amzn-trace-id"]).root == root
    workers = _workers(stack_description)
    assert {"archiver", "graph_writer", "timeseries_writer", "notifier"} <= workers
    found = wait_for(lambda: _complete(traces, {event["id"]}, workers), timeout_s=30, interval_s=0.2)
    assert found, "not every worker's segment reached the collector"
    puts = _puts(traces)
    for worker, segment in found[event["id"]].items():
        assert segment["trace_id"] == root
        ingest, put = puts[segment["parent_id"]]
        assert (ingest["trace_id"], ingest["parent_id"]) == (root, CALLER)
        assert put["end_time"] <= segment["start_time"] + 0.001  # the PutEvents call came first
        calls = {s["name"] for s in segment.get("subsegments", [])}
        assert _store_calls(worker, stack_description) <= calls, (worker, calls)

    data_dir = stack_description["data_dir"]
    done = subprocess.run(
        [sys.executable, "-m", "tributary.cli", "trace", event["id"], "--json", "--data-dir", data_dir],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    hops = json.loads(done.stdout)
    assert hops[0]["service"] == "ingest" and {h["trace_id"] for h in hops} == {root}
    assert {h["service"] for h in hops[1:]} == workers
    assert all(h["via"] == "EventBridge.PutEvents" for h in hops[1:])


def test_concurrent_requests_are_distinct_complete_traces(
    stack_description: dict[str, Any], traces: Path
) -> None:
    """100 concurrent requests: 100 traces, each holding its event's ingest and worker segments only."""
    events = [_reading() for _ in range(100)]

    async def post_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=stack_description["ingest_url"],
            timeout=30,
            headers=StackClient(stack_description).ingest_headers(),
        ) as client:
            return await asyncio.gather(*(client.post("/v1/events", json={"events": [e]}) for e in events))

    responses = asyncio.run(post_all())
    assert [r.status_code for r in responses] == [202] * 100
    answered = {
        e["id"]: TraceContext.parse(r.headers["x-amzn-trace-id"]).root
        for e, r in zip(events, responses, strict=True)
    }
    assert len(set(answered.values())) == 100
    workers = _workers(stack_description)
    found = wait_for(lambda: _complete(traces, set(answered), workers), timeout_s=60, interval_s=0.5)
    assert found, "not every event's trace is complete"
    puts = _puts(traces)
    for event_id, by_worker in found.items():
        assert {s["trace_id"] for s in by_worker.values()} == {answered[event_id]}
        ingest_segments = {puts[s["parent_id"]][0]["id"] for s in by_worker.values()}
        assert len(ingest_segments) == 1  # one request, one PutEvents parent for every worker
