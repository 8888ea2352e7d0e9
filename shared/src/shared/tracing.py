"""Tracing: X-Ray trace headers, segments and subsegments, behind one small API.

The header (``X-Amzn-Trace-Id`` format) travels as PutEvents' ``TraceHeader`` and, because emulators drop
``AWSTraceHeader``, in the envelope's ``trace`` too. This module is the one place that knows the format and
the one place that imports the X-Ray SDK (its segment models, UDP emitter and local sampler), so an
OpenTelemetry backend can replace X-Ray without touching services.

The SDK's recorder keeps the current segment in thread-local or task-local state that gets lost across
threads and tasks; it is not used. A :class:`Span` is an explicit object: code passes it where work hops to
another thread, and :func:`current_span` reads a :class:`~contextvars.ContextVar`, which asyncio tasks and
``run_in_threadpool`` copy correctly. Work recorded after the fact (a worker's batch) is emitted with
:meth:`Tracer.emit` from start and end times, as a segment document built directly (the X-Ray segment
document format), which is much cheaper per message than the SDK's models.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import time
import traceback
import types
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol


def _sdk_parts_without_its_recorder() -> None:
    """Let ``aws_xray_sdk.core``'s modules be imported without running the package's ``__init__``.

    That ``__init__`` builds a global recorder with centralized sampling: its own botocore session and X-Ray
    client, ~16 MB resident in every process, which this module never uses (it takes only the segment
    models, the UDP emitter and the local sampler, none of which needs the package's namespace). The
    package is registered bare, with its real search path, unless something imported it already.
    """
    name = "aws_xray_sdk.core"
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return  # not a package here: the imports below fail with the usual error
    package = types.ModuleType(name)
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__package__ = name
    sys.modules[name] = package


_sdk_parts_without_its_recorder()

from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter  # noqa: E402
from aws_xray_sdk.core.models.segment import Segment  # noqa: E402
from aws_xray_sdk.core.models.subsegment import Subsegment  # noqa: E402
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler  # noqa: E402

_ROOT = re.compile(r"Root=(1-[0-9a-f]{8}-[0-9a-f]{24})")
_PARENT = re.compile(r"Parent=([0-9a-f]{16})")
_SAMPLED = re.compile(r"Sampled=([01])")
AWS_NAMESPACE = "aws"
REMOTE_NAMESPACE = "remote"

Annotation = str | int | float | bool

_current: ContextVar[Span | None] = ContextVar("tributary_span", default=None)


def new_trace_header(*, sampled: bool = True) -> str:
    """A fresh X-Ray trace header: ``Root=1-<epoch hex>-<96 random bits>;Sampled=<0|1>``."""
    return f"Root={_new_root()};Sampled={int(sampled)}"


def trace_id(header: str | None) -> str | None:
    """The ``Root`` trace id of a header, or ``None`` if it carries none."""
    match = _ROOT.search(header or "")
    return match.group(1) if match else None


def continue_or_start(header: str | None) -> str:
    """The incoming header if it names a valid root, else a new one."""
    return header if header and trace_id(header) else new_trace_header()


@dataclass(frozen=True, kw_only=True)
class TraceContext:
    """What a header says: the trace, the caller's segment (``parent``) and its sampling decision."""

    root: str | None
    parent: str | None
    sampled: bool | None

    @classmethod
    def parse(cls, header: str | None) -> TraceContext:
        """The parts of ``header``; missing or malformed parts are ``None``."""
        text = header or ""
        parent, sampled = _PARENT.search(text), _SAMPLED.search(text)
        return cls(
            root=trace_id(text),
            parent=parent.group(1) if parent else None,
            sampled=sampled.group(1) == "1" if sampled else None,
        )


def _new_root() -> str:
    return f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"


def _new_id() -> str:
    return os.urandom(8).hex()


def format_header(root: str, parent: str, sampled: bool) -> str:
    """A header naming ``parent`` as the caller; always the same length for a given root."""
    return f"Root={root};Parent={parent};Sampled={int(sampled)}"


class Emitter(Protocol):
    """Where finished segments go: the SDK's ``UDPEmitter`` (the daemon), or an in-memory list in tests."""

    def send_entity(self, entity: Any) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Call:
    """A piece of work timed after the fact, recorded as a subsegment: a store call, a queue call."""

    name: str
    operation: str
    start: float
    end: float
    namespace: str = REMOTE_NAMESPACE
    error: str | None = None


class Span:
    """An open segment or subsegment; unsampled spans carry ids and headers but record nothing.

    A span that records nothing passes on ``inherited``, the caller's segment id, as the downstream parent.
    """

    def __init__(
        self,
        *,
        root: str,
        sampled: bool,
        entity: Any = None,
        segment: Any = None,
        inherited: str | None = None,
    ) -> None:
        self.root = root
        self.sampled = sampled
        self.id: str = entity.id if entity is not None else inherited or _new_id()
        self._entity = entity
        self._segment = segment if segment is not None else entity

    @property
    def recording(self) -> bool:
        """Whether this span is being recorded (sampled, with tracing on)."""
        return self._entity is not None

    def header(self, parent: str | None = None) -> str:
        """The header for work this span calls: ``Parent`` is this span, or ``parent`` if given."""
        return format_header(self.root, parent or self.id, self.sampled)

    def annotate(self, **values: Annotation) -> None:
        """Indexed key-values (X-Ray annotations: searchable, e.g. ``event_id``)."""
        if self._entity is not None:
            for key, value in values.items():
                self._entity.put_annotation(key, value)

    def metadata(self, **values: Any) -> None:
        """Unindexed details."""
        if self._entity is not None:
            for key, value in values.items():
                self._entity.put_metadata(key, value, "tributary")

    def fail(self, exc: BaseException, *, fault: bool = True) -> None:
        """Mark the span failed with ``exc``: a fault (server side) or an error (bad input)."""
        if self._entity is not None:
            _record_failure(self._entity, exc, fault=fault)

    @contextmanager
    def child(self, name: str, *, operation: str, namespace: str = AWS_NAMESPACE) -> Iterator[Span]:
        """A subsegment for work done now, in any thread (pass this span to the thread doing it)."""
        if self._entity is None:
            yield Span(root=self.root, sampled=self.sampled)
            return
        sub = Subsegment(name, namespace, self._segment)
        sub.aws = {"operation": operation}
        self._entity.add_subsegment(sub)
        span = Span(root=self.root, sampled=True, entity=sub, segment=self._segment)
        try:
            yield span
        except BaseException as exc:
            span.fail(exc)
            raise
        finally:
            sub.close()


def _record_failure(entity: Any, exc: BaseException, *, fault: bool) -> None:
    entity.add_exception(exc, traceback.extract_tb(exc.__traceback__, limit=10))
    if not fault:
        entity.fault = False
        entity.add_error_flag()


def current_span() -> Span | None:
    """The segment open in this task or thread context, if any."""
    return _current.get()


class Tracer:
    """Opens and emits segments for one service.

    Args:
        service: the segment name.
        emitter: where segments go; ``None`` turns tracing off (spans still carry headers).
        sample_rate: the share of new traces recorded; an incoming ``Sampled=`` decision always wins.
        fixed_target_per_s: traces recorded each second before ``sample_rate`` applies.
    """

    def __init__(
        self,
        *,
        service: str,
        emitter: Emitter | None,
        sample_rate: float = 1.0,
        fixed_target_per_s: int = 0,
    ) -> None:
        self.service = service
        self._emitter = emitter
        self._sampler = LocalSampler(
            {"version": 2, "default": {"fixed_target": fixed_target_per_s, "rate": sample_rate}}
        )

    @property
    def enabled(self) -> bool:
        """Whether this tracer records anything (it has an emitter)."""
        return self._emitter is not None

    def decide(self, context: TraceContext) -> bool:
        """Whether to record this trace: the caller's decision if it made one, else the sampler's."""
        if not self.enabled:
            return False
        if context.sampled is not None:
            return context.sampled
        return bool(self._sampler.should_trace())

    @contextmanager
    def segment(self, header: str | None, **annotations: Annotation) -> Iterator[Span]:
        """A segment continuing ``header`` (or a new trace), current for this context while open.

        An exception escaping the block marks the segment as a fault and is re-raised.
        """
        context = TraceContext.parse(header)
        root = context.root or _new_root()
        sampled = self.decide(context)
        entity = None
        if sampled:
            entity = Segment(self.service, traceid=root, parent_id=context.parent, sampled=True)
        # Tracing off here: pass the caller's trace through untouched, so services downstream still record it.
        passed_on = sampled if self.enabled else bool(context.sampled)
        span = Span(
            root=root, sampled=passed_on, entity=entity, inherited=None if self.enabled else context.parent
        )
        span.annotate(**annotations)
        token = _current.set(span)
        try:
            yield span
        except BaseException as exc:
            span.fail(exc)
            raise
        finally:
            _current.reset(token)
            if entity is not None:
                entity.close()
                self._send(entity)

    def emit(
        self,
        header: str | None,
        *,
        start: float,
        end: float,
        annotations: Mapping[str, Annotation],
        calls: Sequence[Call] = (),
        failure: BaseException | None = None,
        fault: bool = True,
    ) -> str | None:
        """Emit a finished segment continuing ``header``, with ``calls`` as its subsegments.

        Returns:
            the segment id, or ``None`` when the trace is not sampled (nothing is sent).
        """
        context = TraceContext.parse(header)
        if not self.decide(context):
            return None
        segment_id = _new_id()
        document: dict[str, Any] = {
            "name": self.service,
            "id": segment_id,
            "trace_id": context.root or _new_root(),
            "start_time": start,
            "end_time": end,
            "annotations": dict(annotations),
        }
        if context.parent:
            document["parent_id"] = context.parent
        if failure is not None:
            document["fault" if fault else "error"] = True
            document["cause"] = {"exceptions": [_exception(failure)]}
        if calls:
            document["subsegments"] = [_call_document(call) for call in calls]
        self._send(_Document(document))
        return segment_id

    def _send(self, entity: Any) -> None:
        if self._emitter is not None:
            self._emitter.send_entity(entity)


class _Document:
    """A finished segment as the emitters take it (they call ``serialize()``), built without the SDK's
    entity models: a worker emits one per message, and the models cost ~10x more than a dict."""

    __slots__ = ("_json",)

    def __init__(self, document: dict[str, Any]) -> None:
        self._json = json.dumps(document, separators=(",", ":"), default=str)

    def serialize(self) -> str:
        return self._json


def _exception(failure: BaseException) -> dict[str, Any]:
    return {"id": _new_id(), "type": type(failure).__name__, "message": str(failure)[:1000]}


def _call_document(call: Call) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": _new_id(),
        "name": call.name,
        "start_time": call.start,
        "end_time": call.end,
        "namespace": call.namespace,
        "aws": {"operation": call.operation},
    }
    if call.error:
        document["fault"] = True
        document["metadata"] = {"tributary": {"error": call.error}}
    return document


def udp_emitter(address: str) -> Emitter:
    """The SDK's non-blocking UDP emitter to an X-Ray daemon at ``host:port``."""
    emitter: Emitter = UDPEmitter(daemon_address=address)
    return emitter
