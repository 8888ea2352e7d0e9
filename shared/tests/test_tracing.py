"""Tests of trace headers, segments and subsegments, and the trace context under asyncio and threads."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest
from fastapi.concurrency import run_in_threadpool

from shared.testing import InMemoryEmitter
from shared.tracing import (
    Call,
    TraceContext,
    Tracer,
    continue_or_start,
    current_span,
    new_trace_header,
    trace_id,
)

INCOMING = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def emitter() -> InMemoryEmitter:
    return InMemoryEmitter()


@pytest.fixture
def tracer(emitter: InMemoryEmitter) -> Tracer:
    return Tracer(service="svc", emitter=emitter, sample_rate=1.0)


def test_new_headers_have_a_root_and_differ() -> None:
    """Fresh headers carry distinct X-Ray roots."""
    a, b = new_trace_header(), new_trace_header()
    assert trace_id(a) and trace_id(b) and trace_id(a) != trace_id(b)


def test_incoming_header_is_continued() -> None:
    """A valid incoming header is kept as is; garbage starts a new trace."""
    assert continue_or_start(INCOMING) == INCOMING
    assert trace_id(continue_or_start("garbage")) is not None


def test_a_header_parses_into_root_parent_and_decision() -> None:
    """Root, Parent and Sampled are read; what is missing or malformed is None."""
    assert TraceContext.parse(INCOMING) == TraceContext(
        root="1-5759e988-bd862e3fe1be46a994272793", parent="53995c3f42cd8ad8", sampled=True
    )
    assert TraceContext.parse("Parent=zz;Sampled=?") == TraceContext(root=None, parent=None, sampled=None)


def test_a_segment_continues_the_incoming_trace(tracer: Tracer, emitter: InMemoryEmitter) -> None:
    """The emitted segment has the header's root and parent; its header names the segment as parent."""
    with tracer.segment(INCOMING, event_id="e1") as span:
        assert current_span() is span
        downstream = span.header()
    assert current_span() is None
    [doc] = emitter.documents
    assert doc["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert doc["parent_id"] == "53995c3f42cd8ad8"
    assert doc["name"] == "svc" and doc["annotations"] == {"event_id": "e1"}
    assert doc["end_time"] >= doc["start_time"]
    assert TraceContext.parse(downstream) == TraceContext(
        root=doc["trace_id"], parent=doc["id"], sampled=True
    )
    assert len(downstream) == len(span.header(parent="0" * 16))


def test_a_child_opened_in_another_thread_lands_in_the_segment(
    tracer: Tracer, emitter: InMemoryEmitter
) -> None:
    """A span handed to a thread records its subsegment there; a failure inside marks it a fault."""
    headers: list[str] = []
    escaped: list[BaseException] = []

    def work() -> None:
        try:
            with parent.child("S3", operation="PutObject") as call:
                headers.append(call.header())
                raise TimeoutError("slow")
        except TimeoutError as exc:
            escaped.append(exc)

    with tracer.segment(None) as parent:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert [type(e) for e in escaped] == [TimeoutError]
    [doc] = emitter.documents
    [sub] = doc["subsegments"]
    assert (sub["name"], sub["namespace"], sub["aws"]) == ("S3", "aws", {"operation": "PutObject"})
    assert sub["fault"] is True and sub["cause"]["exceptions"][0]["type"] == "TimeoutError"
    assert TraceContext.parse(headers[0]).parent == sub["id"]


def test_the_callers_sampling_decision_wins(emitter: InMemoryEmitter) -> None:
    """Sampled=0 records nothing at rate 1; Sampled=1 records at rate 0; a new trace uses the rate."""
    always = Tracer(service="svc", emitter=emitter, sample_rate=1.0)
    never = Tracer(service="svc", emitter=emitter, sample_rate=0.0)
    with always.segment(INCOMING.replace("Sampled=1", "Sampled=0")) as span:
        assert not span.sampled and span.header().endswith("Sampled=0")
    with never.segment(None) as span:
        assert not span.sampled
    assert emitter.documents == []
    with never.segment(INCOMING):
        pass
    assert len(emitter.documents) == 1


def test_a_disabled_tracer_sends_nothing_but_still_carries_headers() -> None:
    """Without an emitter nothing is recorded; the caller's root, parent and decision pass on untouched."""
    off = Tracer(service="svc", emitter=None)
    with off.segment(INCOMING) as span, span.child("S3", operation="PutObject") as call:
        assert not off.enabled and not span.recording and trace_id(call.header()) == trace_id(INCOMING)
        assert TraceContext.parse(span.header()) == TraceContext.parse(INCOMING)


def test_an_exception_escaping_a_segment_marks_it_and_propagates(
    tracer: Tracer, emitter: InMemoryEmitter
) -> None:
    """The segment is still sent, flagged as a fault with the exception's type."""
    with pytest.raises(ValueError, match="bad"), tracer.segment(None):
        raise ValueError("bad")
    [doc] = emitter.documents
    assert doc["fault"] is True and doc["cause"]["exceptions"][0]["type"] == "ValueError"


def test_emit_builds_a_finished_segment_with_calls(tracer: Tracer, emitter: InMemoryEmitter) -> None:
    """A segment recorded after the fact keeps its times, its parent and its calls as subsegments."""
    calls = [
        Call(name="DuckDB", operation="write", start=10.0, end=10.5),
        Call(name="SQS", operation="delete", start=10.5, end=10.6, namespace="aws", error="Boom: no"),
    ]
    segment_id = tracer.emit(
        INCOMING,
        start=10.0,
        end=11.0,
        annotations={"event_id": "e1"},
        calls=calls,
        failure=KeyError("k"),
        fault=False,
    )
    [doc] = emitter.documents
    assert doc["id"] == segment_id and (doc["start_time"], doc["end_time"]) == (10.0, 11.0)
    assert doc["parent_id"] == "53995c3f42cd8ad8" and doc["error"] is True and not doc.get("fault")
    subs = doc["subsegments"]
    assert [(s["name"], s["namespace"], s["start_time"], s["end_time"]) for s in subs] == [
        ("DuckDB", "remote", 10.0, 10.5),
        ("SQS", "aws", 10.5, 10.6),
    ]
    assert len({segment_id, *(s["id"] for s in subs)}) == 3  # nested subsegments: their parent is the segment
    assert subs[1]["fault"] is True and "fault" not in subs[0]
    assert subs[1]["metadata"] == {"tributary": {"error": "Boom: no"}}
    assert doc["cause"]["exceptions"][0]["type"] == "KeyError"


def test_concurrent_tasks_keep_their_own_segments(tracer: Tracer, emitter: InMemoryEmitter) -> None:
    """100 interleaved asyncio tasks, each hopping to a thread: 100 distinct traces, no cross-talk."""

    async def request(n: int) -> tuple[str, str, str]:
        header = new_trace_header() if n % 2 else None  # half continue a trace, half start one
        with tracer.segment(header, n=n) as span:
            await asyncio.sleep(0.001 * (n % 7))  # interleave with the other tasks
            seen_in_thread = await run_in_threadpool(lambda: current_span())
            assert seen_in_thread is span and current_span() is span

            def child() -> None:
                with span.child("EventBridge", operation="PutEvents"):
                    pass

            await run_in_threadpool(child)
            await asyncio.sleep(0.001 * (n % 5))
            assert current_span() is span
            return span.root, span.id, header or ""

    async def main() -> list[tuple[str, str, str]]:
        return await asyncio.gather(*(request(n) for n in range(100)))

    results = asyncio.run(main())
    docs = {d["annotations"]["n"]: d for d in emitter.documents}
    assert len(docs) == 100 and len({d["trace_id"] for d in docs.values()}) == 100
    for n, (root, span_id, header) in enumerate(results):
        doc = docs[n]
        assert (doc["trace_id"], doc["id"]) == (root, span_id)
        assert not header or trace_id(header) == root
        [sub] = doc["subsegments"]
        assert sub["parent_id"] == span_id and sub["trace_id"] == root


def test_importing_tracing_builds_no_sdk_recorder() -> None:
    """The SDK package's ``__init__`` (a global recorder with its own botocore session and X-Ray client,
    ~16 MB per process) does not run; the parts this module uses still import and work (tests above)."""
    code = (
        "import sys, shared.tracing\n"
        "names = ('recorder', 'async_recorder', 'patcher', 'sampling.connector')\n"
        "print([n for n in names if 'aws_xray_sdk.core.' + n in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
