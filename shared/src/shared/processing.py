"""The per-batch core of the worker: parse, hand to the handler, then act on each message's outcome.

Two halves, so that a worker can pipeline them: :meth:`BatchProcessor.handle` (parse, handler, each
message's fate) and :meth:`BatchProcessor.settle` (tell the queue); :meth:`BatchProcessor.process` runs
both in turn (the Lambda adapter).

Success → delete; transient failure → visibility backoff; permanent failure or last attempt → DLQ with the
reason, then delete; store outage (:class:`~shared.errors.StoreUnavailable`) → left to the caller, attempts
unspent. A message leaves its queue only once it is stored or safely in the DLQ.

Isolation: no body (bytes that are not UTF-8, a number of 5,000 digits, nesting 100,000 deep) and no
handler error escapes :meth:`BatchProcessor.process`; a batch the handler failed as a whole is bisected so
that only its culprit events fail (see :meth:`BatchProcessor._handle`).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from contracts import Envelope
from shared.errors import ContractError, RetryableError, StoreUnavailable, TributaryError
from shared.messages import Message, parse_envelope
from shared.observe import BatchObserver, BatchWatch
from shared.outcomes import Outcomes, RetryPolicy, sort_outcomes
from shared.ports import BatchHandler, MessageQueue
from shared.upcasting import Upcast, no_upcast

log = structlog.get_logger()


@dataclass(frozen=True, kw_only=True)
class Handled:
    """A handled batch waiting to be settled: each message's fate, and the open watch that times the queue
    calls of settling (in ``context``, where the watch was opened)."""

    messages: Sequence[Message]
    outcomes: Outcomes
    started: float
    envelopes: Mapping[str, Envelope | ContractError] = field(default_factory=dict)
    events: int = 0
    watch: BatchWatch | None = None
    context: contextvars.Context | None = None
    crashed: bool = False


@dataclass(kw_only=True)
class Stats:
    """Running totals of what the processor did, by outcome; thread-safe (the worker settles on its own
    thread)."""

    counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **increments: int) -> None:
        with self._lock:
            self.counts.update(increments)


class BatchProcessor:
    """Handles one batch of received messages end to end.

    ``upcast`` runs on every parsed envelope before the handler sees it (see :mod:`shared.upcasting`).
    """

    def __init__(
        self,
        *,
        queue: MessageQueue,
        handler: BatchHandler,
        service: str,
        policy: RetryPolicy,
        observer: BatchObserver | None = None,
        upcast: Upcast = no_upcast,
    ) -> None:
        self._queue = queue
        self._handler = handler
        self._service = service
        self._policy = policy
        self._observer = observer or BatchObserver(service=service)
        self._upcast = upcast
        self.stats = Stats()

    def process(self, messages: Sequence[Message]) -> Outcomes:
        """Handle ``messages`` and settle every one with the queue, except those whose store was out.

        Never raises an ``Exception``: whatever a message holds and whatever the handler does, the batch's
        outcome is returned. Should the runtime itself fail midway, every message is returned as an
        unsettled ``retry``: it comes back after its visibility timeout, never lost.
        """
        handled = self.handle(messages)
        self.settle(handled)
        return handled.outcomes

    def handle(self, messages: Sequence[Message]) -> Handled:
        """The first half of :meth:`process`: parse, hand to the handler, decide each message's fate.

        Nothing is said to the queue yet: the caller passes the result to :meth:`settle`, possibly from
        another thread while it handles the next batch. Never raises an ``Exception``.
        """
        started = time.perf_counter()
        context = contextvars.copy_context()  # the batch's watch lives in it, through handling and settling
        try:
            return context.run(self._handle_in, messages, context, started)
        except Exception:  # a runtime bug: nothing is settled, every message comes back after its timeout
            log.exception("batch_crashed", messages=len(messages))
            crashed = Outcomes(retry=[(m, RetryableError("batch crashed")) for m in messages])
            return Handled(messages=messages, outcomes=crashed, started=started, crashed=True)

    def settle(self, handled: Handled) -> None:
        """The second half of :meth:`process`: tell the queue each message's fate, close the batch's watch,
        count and log it. Never raises an ``Exception`` (a queue that fails leaves messages to reappear)."""
        messages, outcomes = handled.messages, handled.outcomes
        if handled.crashed or handled.context is None or handled.watch is None:
            self.stats.add(batches=1, received=len(messages), crashed=len(messages))
            return
        settling = time.perf_counter()
        try:
            handled.context.run(self._settle, outcomes)
            handled.context.run(handled.watch.done, handled.envelopes, outcomes)
        except Exception:  # a runtime bug while settling: the unsettled messages reappear after their timeout
            log.exception("settle_crashed", messages=len(messages))
        ended = time.perf_counter()
        self.stats.add(
            batches=1,
            received=len(messages),
            stored=len(outcomes.done),
            retried=len(outcomes.retry),
            dead_lettered=len(outcomes.dead),
            unavailable=len(outcomes.unavailable),
        )
        log.info(
            "batch_handled",
            messages=len(messages),
            events=handled.events,
            stored=len(outcomes.done),
            retried=len(outcomes.retry),
            dead_lettered=len(outcomes.dead),
            unavailable=len(outcomes.unavailable),
            ms=round((ended - handled.started) * 1000, 1),
            settle_ms=round((ended - settling) * 1000, 1),
        )

    def _handle_in(
        self, messages: Sequence[Message], context: contextvars.Context, started: float
    ) -> Handled:
        watch = self._observer.watch(messages)  # times store and queue calls; reports to traces, metrics
        envelopes = {m.message_id: self._parse(m) for m in messages}
        unique: dict[str, Envelope] = {}
        for parsed in envelopes.values():
            if isinstance(parsed, Envelope):
                unique.setdefault(parsed.id, parsed)  # a redelivered duplicate in the same batch
        last = frozenset(
            p.id
            for m in messages
            if m.receive_count >= self._policy.max_attempts
            and isinstance(p := envelopes[m.message_id], Envelope)
        )
        failures = self._handle(list(unique.values()), last)
        fates: list[tuple[Message, Exception | None]] = []
        for message in messages:
            parsed = envelopes[message.message_id]
            fates.append((message, parsed if isinstance(parsed, Exception) else failures.get(parsed.id)))
        outcomes = sort_outcomes(fates, service=self._service, policy=self._policy)
        return Handled(
            messages=messages,
            outcomes=outcomes,
            started=started,
            envelopes=envelopes,
            events=len(unique),
            watch=watch,
            context=context,
        )

    def _parse(self, message: Message) -> Envelope | ContractError:
        try:
            return self._upcast(parse_envelope(message.body))
        except ContractError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - a body no parser anticipated: it alone is dead-lettered
            log.warning("unreadable_message", message_id=message.message_id, error_type=type(exc).__name__)
            return ContractError(f"message cannot be read ({type(exc).__name__})")

    def _handle(self, events: Sequence[Envelope], last: frozenset[str]) -> dict[str, Exception]:
        """Each event's failure (an event left out was stored), with the culprits of a failed batch isolated.

        A handler that raises, or returns one and the same error for several events, failed them together.
        Unless that error is :class:`~shared.errors.StoreUnavailable`, those events are handed again in
        halves, down to single events, so each culprit fails alone with its own error and its batch-mates
        are stored. A :class:`~shared.errors.RetryableError` is first retried as it came, and isolated only
        once it would dead-letter an event (``last``: the ids on their last attempt). Handlers are
        idempotent on the event id, so handing an event again is safe.
        """
        if not events:
            return {}
        try:
            failures = dict(self._handler(events))
        except StoreUnavailable as exc:
            log.warning("store_unavailable", error=str(exc)[:300], events=len(events))
            return {e.id: exc for e in events}
        except Exception as exc:  # noqa: BLE001 - a handler bug is isolated like any failure (logged there)
            _log_failure(exc, events=len(events))
            if len(events) == 1 or not _isolate(exc, [e.id for e in events], last):
                return {e.id: exc for e in events}
            return self._bisect(events, last)
        by_error: dict[int, list[str]] = defaultdict(list)
        for event_id, error in failures.items():
            by_error[id(error)].append(event_id)
        shared = [ids for ids in by_error.values() if len(ids) > 1 and _isolate(failures[ids[0]], ids, last)]
        together = {i for ids in shared for i in ids}
        if together:
            log.info("batch_failure_isolating", events=len(together))
            failures = {i: e for i, e in failures.items() if i not in together}
            failures |= self._bisect([e for e in events if e.id in together], last)
        return failures

    def _bisect(self, events: Sequence[Envelope], last: frozenset[str]) -> dict[str, Exception]:
        half = len(events) // 2
        first = self._handle(events[:half], last)
        if _all_unavailable(first, events[:half]):  # the store went out meanwhile: no point going on
            error = next(iter(first.values()))
            return first | {e.id: error for e in events[half:]}
        return first | self._handle(events[half:], last)

    def _settle(self, outcomes: Outcomes) -> None:
        """Tell the queue each message's fate; queue failures leave messages to reappear, never lost."""
        try:
            unsent = self._queue.dead_letter(outcomes.dead)
            for letter in outcomes.dead:
                failure = letter.failure
                with structlog.contextvars.bound_contextvars(message_id=letter.message.message_id):
                    log.warning("dead_lettered", **(failure.fields() if failure else {}))
            unsent_ids = {id(d) for d in unsent}
            sent = [d.message for d in outcomes.dead if id(d) not in unsent_ids]
            undeleted = self._queue.delete([*outcomes.done, *sent])
            if undeleted:
                log.warning("delete_failed", messages=len(undeleted))
            retry = outcomes.retry + [(d.message, RetryableError("DLQ send failed")) for d in unsent]
            by_delay: dict[int, list[Message]] = defaultdict(list)
            for message, error in retry:
                log.info(
                    "retry_scheduled",
                    message_id=message.message_id,
                    attempt=message.receive_count,
                    error_type=type(error).__name__,
                    error=str(error)[:300],
                )
                by_delay[self._policy.delay_s(message.receive_count, error)].append(message)
            for delay, group in by_delay.items():
                self._queue.change_visibility(group, delay)
        except RetryableError as exc:
            log.warning("settle_failed", error=str(exc))


def _isolate(error: Exception, ids: Sequence[str], last: frozenset[str]) -> bool:
    """Whether events failed together by ``error`` are worth handing again one group at a time."""
    if isinstance(error, StoreUnavailable):
        return False
    if isinstance(error, RetryableError):
        return any(i in last for i in ids)
    return True


def _all_unavailable(failures: Mapping[str, Exception], events: Sequence[Envelope]) -> bool:
    return bool(events) and all(isinstance(failures.get(e.id), StoreUnavailable) for e in events)


def _log_failure(exc: Exception, *, events: int) -> None:
    if isinstance(exc, TributaryError):
        log.warning("batch_failed", error_type=type(exc).__name__, error=str(exc)[:300], events=events)
    else:  # a handler bug: isolated like any failure, and logged with its traceback
        log.exception("handler_crashed", error_type=type(exc).__name__, events=events)
