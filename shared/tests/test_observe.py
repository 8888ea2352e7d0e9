"""Tests of batch observation: store calls timed into the open batch, one segment per message."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from contracts import Envelope
from shared.batch_tracing import BatchTracer
from shared.errors import PermanentError, RetryableError
from shared.observe import BatchObserver, BatchReport, traced
from shared.outcomes import Outcomes, RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryEmitter, InMemoryQueue
from shared.testkit.envelopes import envelope, rule_body
from shared.tracing import TraceContext, Tracer, new_trace_header

INGEST_CALL = "1111222233334444"


class Store:
    """A store port whose writes fail while ``fail`` is set."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.fail: Exception | None = None

    def write(self, ids: Sequence[str]) -> None:
        if self.fail:
            raise self.fail
        self.rows.extend(ids)


class Handler:
    """Writes the batch through ``store``; fails the ids in ``fail``."""

    def __init__(self, store: Store, fail: Mapping[str, Exception] | None = None) -> None:
        self.store = store
        self.fail = dict(fail or {})

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self.store.write([e.id for e in events if e.id not in self.fail])
        return {e.id: self.fail[e.id] for e in events if e.id in self.fail}


def _traced_envelope() -> Envelope:
    root = TraceContext.parse(new_trace_header()).root
    return envelope(trace=f"Root={root};Parent={INGEST_CALL};Sampled=1")


def _process(queue: InMemoryQueue, handler: Handler, tracer: Tracer, **aws_trace_headers: str) -> None:
    """Process one received batch; ``aws_trace_headers`` by message id stand in for SQS's AWSTraceHeader."""
    messages = [
        dataclasses.replace(m, trace_header=aws_trace_headers.get(m.message_id))
        for m in queue.receive(max_messages=10, wait_s=0)
    ]
    processor = BatchProcessor(
        queue=traced(queue, store="SQS", aws=True),
        handler=handler,
        service="svc",
        policy=RetryPolicy(max_attempts=5),
        observer=BatchObserver(service="svc", sinks=[BatchTracer(tracer)]),
    )
    processor.process(messages)


@pytest.fixture
def emitter() -> InMemoryEmitter:
    return InMemoryEmitter()


@pytest.fixture
def tracer(emitter: InMemoryEmitter) -> Tracer:
    return Tracer(service="svc", emitter=emitter, sample_rate=1.0)


def _by_event(emitter: InMemoryEmitter) -> dict[str, dict[str, Any]]:
    return {d["annotations"]["event_id"]: d for d in emitter.documents}


def test_a_traced_port_records_calls_only_inside_a_batch() -> None:
    """Outside a batch the wrapped store is called plainly; inside, each call is timed, failures too."""
    store = Store()
    wrapped = traced(store, store="DuckDB")
    wrapped.write(["before"])
    reports: list[BatchReport] = []
    watch = BatchObserver(service="svc", sinks=[reports.append]).watch([])
    wrapped.write(["inside"])
    store.fail = TimeoutError("slow")
    with pytest.raises(TimeoutError):
        wrapped.write(["lost"])
    watch.done({}, Outcomes())
    store.fail = None
    wrapped.write(["after"])
    [report] = reports
    assert store.rows == ["before", "inside", "after"]
    assert [(c.name, c.operation, c.namespace, c.error) for c in report.calls] == [
        ("DuckDB", "write", "remote", None),
        ("DuckDB", "write", "remote", "TimeoutError: slow"),
    ]
    assert all(c.end >= c.start for c in report.calls)
    assert (
        wrapped.rows is store.rows
    )  # attributes pass through; the wrapper does not pose as the port's class


def test_each_message_gets_a_segment_in_its_own_trace(tracer: Tracer, emitter: InMemoryEmitter) -> None:
    """One segment per message, parented on the ingest call, holding the batch's store and queue calls."""
    queue = InMemoryQueue()
    events = [_traced_envelope() for _ in range(3)]
    for event in events:
        queue.send(rule_body(event))
    _process(queue, Handler(traced(Store(), store="DuckDB")), tracer)
    docs = _by_event(emitter)
    assert set(docs) == {e.id for e in events}
    for event in events:
        doc = docs[event.id]
        assert doc["trace_id"] == TraceContext.parse(event.trace).root
        assert (doc["parent_id"], doc["name"]) == (INGEST_CALL, "svc")
        assert doc["annotations"] == {
            "event_id": event.id,
            "event_type": "sensor.reading.v1",
            "outcome": "stored",
            "attempt": 1,
        }
        assert not doc.get("fault") and not doc.get("error")
        subs = doc["subsegments"]
        assert [(s["name"], s["namespace"], s["aws"]["operation"]) for s in subs] == [
            ("DuckDB", "remote", "write"),
            ("SQS", "aws", "delete"),
        ]
        assert all(doc["start_time"] <= s["start_time"] <= s["end_time"] <= doc["end_time"] for s in subs)


def test_the_aws_trace_header_wins_over_the_envelope(tracer: Tracer, emitter: InMemoryEmitter) -> None:
    """Where SQS kept AWSTraceHeader it is continued; the envelope's trace is the fallback."""
    queue = InMemoryQueue()
    event = _traced_envelope()
    message_id = queue.send(rule_body(event))
    aws_header = new_trace_header().replace(";Sampled=1", ";Parent=aaaabbbbccccdddd;Sampled=1")
    _process(queue, Handler(Store()), tracer, **{message_id: aws_header})
    [doc] = emitter.documents
    assert (doc["trace_id"], doc["parent_id"]) == (TraceContext.parse(aws_header).root, "aaaabbbbccccdddd")


def test_failed_messages_are_marked_with_their_fate(tracer: Tracer, emitter: InMemoryEmitter) -> None:
    """Retried: a fault; dead-lettered as permanent: an error; a body with no envelope and no header: none."""
    queue = InMemoryQueue()
    retried, dead, fine = (_traced_envelope() for _ in range(3))
    for event in (retried, dead, fine):
        queue.send(rule_body(event))
    queue.send("not json")
    fail = {retried.id: RetryableError("store busy"), dead.id: PermanentError("bad reading")}
    _process(queue, Handler(Store(), fail=fail), tracer)
    docs = _by_event(emitter)
    assert set(docs) == {retried.id, dead.id, fine.id}
    assert docs[retried.id]["annotations"]["outcome"] == "retried" and docs[retried.id]["fault"] is True
    assert docs[retried.id]["cause"]["exceptions"][0]["type"] == "RetryableError"
    dead_doc = docs[dead.id]
    assert dead_doc["annotations"]["outcome"] == "dead_lettered"
    assert dead_doc["error"] is True and not dead_doc.get("fault")
    assert "bad reading" in dead_doc["cause"]["exceptions"][0]["message"]
    assert docs[fine.id]["annotations"]["outcome"] == "stored" and not docs[fine.id].get("fault")


def test_a_failing_store_call_is_a_faulty_subsegment(tracer: Tracer, emitter: InMemoryEmitter) -> None:
    """A store outage fails the batch: every message's segment shows the failed call."""
    queue = InMemoryQueue()
    for _ in range(2):
        queue.send(rule_body(_traced_envelope()))
    store = Store()
    store.fail = RetryableError("down")
    _process(queue, Handler(traced(store, store="S3", aws=True)), tracer)
    assert len(emitter.documents) == 2
    for doc in emitter.documents:
        [s3, *_] = doc["subsegments"]
        assert (s3["name"], s3["fault"]) == ("S3", True)
        assert doc["annotations"]["outcome"] == "retried"


def test_nothing_is_sent_when_tracing_is_off(emitter: InMemoryEmitter) -> None:
    """A disabled tracer emits no segment, and the batch is handled as usual."""
    queue = InMemoryQueue()
    queue.send(rule_body(_traced_envelope()))
    store = Store()
    _process(queue, Handler(store), Tracer(service="svc", emitter=None))
    assert emitter.documents == [] and len(store.rows) == 1 and queue.depth == 0


def test_a_failing_sink_never_fails_the_batch() -> None:
    """The batch is settled even if a sink raises."""

    def broken(report: BatchReport) -> None:
        raise RuntimeError("sink bug")

    queue = InMemoryQueue()
    queue.send(rule_body(envelope()))
    processor = BatchProcessor(
        queue=queue,
        handler=Handler(Store()),
        service="svc",
        policy=RetryPolicy(),
        observer=BatchObserver(service="svc", sinks=[broken]),
    )
    outcomes = processor.process(queue.receive(max_messages=10, wait_s=0))
    assert len(outcomes.done) == 1 and queue.depth == 0
