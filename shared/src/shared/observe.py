"""What a worker reports about each batch, for traces and metrics, without the handler knowing.

:class:`~shared.processing.BatchProcessor` opens a :class:`BatchWatch` when a batch starts and closes it
with the batch's envelopes and outcomes. While it is open, every call through a port wrapped with
:func:`traced` (a store, the queue) is timed into it; the calls are made in the thread that handles the
batch, so a :class:`~contextvars.ContextVar` finds the open watch. On close, a :class:`BatchReport` goes to
each sink (the batch tracer, the metrics). A failing sink is logged and never fails the batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence, Sized
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, cast

import structlog

from contracts import Envelope
from shared.errors import ContractError
from shared.messages import Message
from shared.outcomes import Outcomes
from shared.tracing import AWS_NAMESPACE, REMOTE_NAMESPACE, Call

log = structlog.get_logger()

QUEUE = "SQS"  # the name the runtime gives its queue's calls; store latency leaves them out

_calls: ContextVar[list[Call] | None] = ContextVar("tributary_batch_calls", default=None)


@dataclass(frozen=True, kw_only=True)
class BatchReport:
    """One handled batch: its messages, what each held, each message's fate, timings and calls."""

    service: str
    messages: Sequence[Message]
    envelopes: Mapping[str, Envelope | ContractError]
    outcomes: Outcomes
    started: float
    ended: float
    calls: Sequence[Call]


class BatchSink(Protocol):
    """Takes a finished batch's report; must be quick (no blocking network calls)."""

    def __call__(self, report: BatchReport) -> None: ...


class BatchWatch:
    """An open batch: store and queue calls made in this context are recorded until :meth:`done`."""

    def __init__(self, *, service: str, messages: Sequence[Message], sinks: Sequence[BatchSink]) -> None:
        self._service = service
        self._messages = messages
        self._sinks = sinks
        self._started = time.time()
        self._calls: list[Call] = []
        _calls.set(self._calls)

    def done(self, envelopes: Mapping[str, Envelope | ContractError], outcomes: Outcomes) -> None:
        """Close the batch and hand its report to every sink."""
        _calls.set(None)
        report = BatchReport(
            service=self._service,
            messages=self._messages,
            envelopes=envelopes,
            outcomes=outcomes,
            started=self._started,
            ended=time.time(),
            calls=list(self._calls),
        )
        for sink in self._sinks:
            try:
                sink(report)
            except Exception:  # observing a batch must never fail it
                log.exception("batch_sink_failed", sink=type(sink).__name__)


class BatchObserver:
    """Opens a :class:`BatchWatch` per batch for ``sinks`` (none: calls are still timed, then dropped)."""

    def __init__(self, *, service: str, sinks: Sequence[BatchSink] = ()) -> None:
        self._service = service
        self._sinks = list(sinks)

    def watch(self, messages: Sequence[Message]) -> BatchWatch:
        return BatchWatch(service=self._service, messages=messages, sinks=self._sinks)


def traced[T](port: T, *, store: str, aws: bool = False) -> T:
    """``port`` with each public method call timed into the open batch, as a call to ``store``.

    Args:
        port: an adapter (a store, a channel, the queue); it is returned wrapped, typed as itself.
        store: the name traces show (``S3``, ``DuckDB``, ``webhook:ops``).
        aws: an AWS service (X-Ray's ``aws`` namespace) rather than another remote.
    """
    return cast("T", _TracedPort(port, store, AWS_NAMESPACE if aws else REMOTE_NAMESPACE))


class _TracedPort:
    def __init__(self, port: Any, store: str, namespace: str) -> None:
        self._port = port
        self._store = store
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._port, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return self._timed(name, attr)

    def _timed(self, operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls = _calls.get()
            if calls is None or _nothing_to_do(args):
                return method(*args, **kwargs)
            start = time.time()
            error = None
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                raise
            finally:
                calls.append(
                    Call(
                        name=self._store,
                        operation=operation,
                        start=start,
                        end=time.time(),
                        namespace=self._namespace,
                        error=error,
                    )
                )

        return call


def _nothing_to_do(args: tuple[Any, ...]) -> bool:
    """A batch call given an empty batch (``dead_letter([])``) makes no round trip: not worth a subsegment."""
    return bool(args) and isinstance(args[0], Sized) and not isinstance(args[0], str) and len(args[0]) == 0
