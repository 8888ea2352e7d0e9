"""Tests of ``tributary trace``: an event's hops found across services from collected segments."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shared.testing import InMemoryEmitter
from shared.tracing import Call, Tracer
from tributary.cli import app
from tributary.operators import cli_support
from tributary.operators.trace import TraceNotFound, timeline


def _flow(emitter: InMemoryEmitter, event_ids: list[str]) -> None:
    """An ingest request publishing ``event_ids``; archiver stores each, graph_writer on a retry."""
    ingest = Tracer(service="ingest", emitter=emitter)
    with ingest.segment(None) as request, request.child("EventBridge", operation="PutEvents") as put:
        header = put.header()
    start = time.time() + 0.01
    for event_id in event_ids:
        for service, attempt, error in (
            ("archiver", 1, None),
            ("graph_writer", 1, "Timeout"),
            ("graph_writer", 2, None),
        ):
            calls = [
                Call(
                    name="S3" if service == "archiver" else "FalkorDB",
                    operation="put",
                    start=start,
                    end=start + 0.01,
                    error=error,
                )
            ]
            Tracer(service=service, emitter=emitter).emit(
                header,
                start=start,
                end=start + 0.02,
                annotations={
                    "event_id": event_id,
                    "outcome": "retried" if error else "stored",
                    "attempt": attempt,
                },
                calls=calls,
                failure=TimeoutError("graph busy") if error else None,
            )
            start += 0.05


def _segments(event_ids: list[str]) -> list[dict[str, Any]]:
    emitter = InMemoryEmitter()
    _flow(emitter, event_ids)
    _flow(emitter, ["other"])
    return emitter.documents


def test_the_timeline_follows_the_event_from_ingest_to_each_store() -> None:
    """ingest first, then the event's worker segments (not other events'), under the PutEvents call."""
    hops = timeline(_segments(["e1", "e2"]), "e1")
    assert (hops[0].service, hops[0].outcome) == ("ingest", None)
    workers = [(h.service, h.outcome) for h in hops[1:]]
    assert workers == [("archiver", "stored"), ("graph_writer", "retried"), ("graph_writer", "stored")]
    assert len({h.trace_id for h in hops}) == 1
    assert all((h.parent, h.via) == ("ingest", "EventBridge.PutEvents") for h in hops[1:])
    assert [c.name for c in hops[0].calls] == ["EventBridge"]
    retried = hops[2]
    assert retried.errors == ["TimeoutError: graph busy"]
    assert [(c.name, c.operation, c.duration_ms, c.error) for c in retried.calls] == [
        ("FalkorDB", "put", 10.0, "Timeout")
    ]
    assert hops[1].start_ms < hops[2].start_ms < hops[3].start_ms


def test_an_unknown_event_is_not_found() -> None:
    """An id no segment names raises, saying why that may be."""
    with pytest.raises(TraceNotFound, match="not sampled"):
        timeline(_segments(["e1"]), "nope")


def _stack_dir(tmp_path: Path, segments: list[dict[str, Any]]) -> Path:
    traces = tmp_path / "traces.jsonl"
    traces.write_text("".join(json.dumps(s) + "\n" for s in segments) + "{cut short", encoding="utf-8")
    (tmp_path / "stack.json").write_text(json.dumps({"traces": str(traces)}), encoding="utf-8")
    return tmp_path


def test_the_command_prints_the_timeline_as_json_and_as_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--json lists the hops; the table names services, calls and errors; an unknown id exits 2."""
    data_dir = str(_stack_dir(tmp_path, _segments(["e1"])))
    runner = CliRunner()
    result = runner.invoke(app, ["trace", "e1", "--data-dir", data_dir, "--json"])
    assert result.exit_code == 0, result.output
    assert [h["service"] for h in json.loads(result.output)] == [
        "ingest",
        "archiver",
        "graph_writer",
        "graph_writer",
    ]
    monkeypatch.setattr(cli_support.console, "width", 250)  # a terminal's width, not a pipe's 80 columns
    table = runner.invoke(app, ["trace", "e1", "--data-dir", data_dir])
    assert table.exit_code == 0
    for text in ("ingest", "archiver", "EventBridge.PutEvents", "S3.put", "TimeoutError: graph busy"):
        assert text in table.output
    missing = runner.invoke(app, ["trace", "nope", "--data-dir", data_dir])
    assert missing.exit_code == 2 and "no segment names event nope" in missing.output
