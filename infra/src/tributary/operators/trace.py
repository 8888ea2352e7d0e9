"""``tributary trace EVENT_ID``: one event's hop-by-hop timeline, from the local stack's collected segments.

The event's hops are the worker segments annotated with its id, plus every segment they hang under (the
ingest request whose PutEvents call carried it), found by following ``parent_id`` through segments and
their subsegments. Each hop shows its service, segment, start offset from the first hop, duration, store
calls and errors.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tributary.operators.cli_support import Json, console, failures, print_json
from tributary.options import DataDir
from tributary.stack import StackError, read_stack_file


class TraceNotFound(ValueError):
    """No collected segment names the event."""


@dataclass(frozen=True, kw_only=True)
class Call:
    """A subsegment: a store, queue or bus call made by a hop."""

    name: str
    operation: str
    duration_ms: float
    error: str | None


@dataclass(frozen=True, kw_only=True)
class Hop:
    """One segment of the event's trace."""

    service: str
    segment: str
    trace_id: str
    parent: str | None
    via: str | None
    start_ms: float
    duration_ms: float
    outcome: str | None
    calls: list[Call]
    errors: list[str]


def load_segments(path: Path) -> list[dict[str, Any]]:
    """The segments of a collector file (a line that does not parse is skipped: a write cut short).

    Raises:
        StackError: the file does not exist.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise StackError(f"no collected traces at {path}") from exc
    segments = []
    for line in text.splitlines():
        try:
            segments.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return segments


def timeline(segments: list[dict[str, Any]], event_id: str) -> list[Hop]:
    """The hops of ``event_id``'s trace, in start order.

    Raises:
        TraceNotFound: no segment is annotated with ``event_id``.
    """
    own = [s for s in segments if s.get("annotations", {}).get("event_id") == event_id]
    if not own:
        raise TraceNotFound(
            f"no segment names event {event_id} (not traced, not sampled, or not arrived yet)"
        )
    traces = {s["trace_id"] for s in own}
    owner: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # entity id -> (segment, entity)
    for segment in (s for s in segments if s["trace_id"] in traces):
        for entity in _walk(segment):
            owner[entity["id"]] = (segment, entity)
    chosen: dict[str, dict[str, Any]] = {}
    vias: dict[str, str | None] = {}
    for segment in own:
        current: dict[str, Any] | None = segment
        while current is not None and current["id"] not in chosen:
            chosen[current["id"]] = current
            parent = owner.get(current.get("parent_id", ""))
            vias[current["id"]] = _label(parent[1]) if parent and parent[1] is not parent[0] else None
            current = parent[0] if parent else None
    first = min(s["start_time"] for s in chosen.values())
    hops = [_hop(s, first, owner, vias[s["id"]]) for s in chosen.values()]
    return sorted(hops, key=lambda h: (h.start_ms, h.service))


def _walk(entity: dict[str, Any]) -> list[dict[str, Any]]:
    return [entity, *(e for sub in entity.get("subsegments", []) for e in _walk(sub))]


def _label(entity: dict[str, Any]) -> str:
    operation = entity.get("aws", {}).get("operation")
    return f"{entity['name']}.{operation}" if operation else str(entity["name"])


def _ms(entity: dict[str, Any]) -> float:
    return round(
        (float(entity.get("end_time", entity["start_time"])) - float(entity["start_time"])) * 1000, 1
    )


def _errors(entity: dict[str, Any]) -> list[str]:
    cause = entity.get("cause")
    exceptions = cause.get("exceptions", []) if isinstance(cause, dict) else []
    found = [f"{e.get('type', 'error')}: {e.get('message', '')}".strip() for e in exceptions]
    noted = entity.get("metadata", {}).get("tributary", {}).get("error")
    if noted:
        found.append(str(noted))
    if not found and (entity.get("fault") or entity.get("error")):
        found.append("fault" if entity.get("fault") else "error")
    return found


def _hop(
    segment: dict[str, Any],
    first: float,
    owner: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    via: str | None,
) -> Hop:
    parent = owner.get(segment.get("parent_id", ""))
    subs = _walk(segment)[1:]
    return Hop(
        service=segment["name"],
        segment=segment["id"],
        trace_id=segment["trace_id"],
        parent=parent[0]["name"] if parent else None,
        via=via,
        start_ms=round((segment["start_time"] - first) * 1000, 1),
        duration_ms=_ms(segment),
        outcome=segment.get("annotations", {}).get("outcome"),
        calls=[
            Call(name=s["name"], operation=s.get("aws", {}).get("operation", ""), duration_ms=_ms(s), error=e)
            for s in subs
            for e in [("; ".join(_errors(s)) or None)]
        ],
        errors=_errors(segment),
    )


def _table(event_id: str, hops: list[Hop]) -> Table:
    traces = ", ".join(sorted({h.trace_id for h in hops}))
    table = Table(title=f"event {event_id} — trace {traces}")
    for column in ("service", "segment", "under", "start", "duration", "calls", "outcome / errors"):
        table.add_column(column, justify="right" if column in ("start", "duration") else "left")
    for hop in hops:
        calls = "\n".join(
            f"{c.name}.{c.operation} {c.duration_ms} ms" + (f" ✗ {c.error}" if c.error else "")
            for c in hop.calls
        )
        under = f"{hop.parent} > {hop.via}" if hop.via else (hop.parent or "—")
        problems = "\n".join([hop.outcome or "", *hop.errors]).strip()
        table.add_row(
            hop.service, hop.segment, under, f"+{hop.start_ms} ms", f"{hop.duration_ms} ms", calls, problems
        )
    return table


def trace_command(
    event_id: Annotated[str, typer.Argument(help="The event's id (the envelope id ingest answered with).")],
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """One event's timeline across services: each hop's start, duration, store calls and errors."""
    with failures():
        stack = read_stack_file(data_dir)
        if "traces" not in stack:
            raise StackError("this stack collects no traces (it was started before tracing existed)")
        hops = timeline(load_segments(Path(stack["traces"])), event_id)
    if as_json:
        print_json([asdict(h) for h in hops])
    else:
        console.print(_table(event_id, hops))
