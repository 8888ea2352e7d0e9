"""The per-batch core of the worker: parse, hand to the handler, then act on each message's outcome.

Success → delete; transient failure → visibility backoff; permanent failure or last attempt → DLQ with the
reason, then delete. A message leaves its queue only once it is stored or safely in the DLQ.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from contracts import Envelope
from shared.errors import ContractError, RetryableError, TributaryError
from shared.messages import Message, parse_envelope
from shared.observe import BatchObserver
from shared.outcomes import Outcomes, RetryPolicy, sort_outcomes
from shared.ports import BatchHandler, MessageQueue
from shared.upcasting import Upcast, no_upcast

log = structlog.get_logger()


@dataclass(kw_only=True)
class Stats:
    """Running totals of what the processor did, by outcome."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, **increments: int) -> None:
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
        """Handle ``messages`` and settle every one of them with the queue."""
        started = time.perf_counter()
        watch = self._observer.watch(messages)  # times store and queue calls; reports to traces and metrics
        envelopes: dict[str, Envelope | ContractError] = {}
        for message in messages:
            try:
                envelopes[message.message_id] = self._upcast(parse_envelope(message.body))
            except ContractError as exc:
                envelopes[message.message_id] = exc
        valid = [e for e in envelopes.values() if isinstance(e, Envelope)]
        unique: dict[str, Envelope] = {}
        for envelope in valid:
            unique.setdefault(envelope.id, envelope)  # a redelivered duplicate in the same batch
        failures, batch_error = self._call_handler(list(unique.values()))
        fates: list[tuple[Message, Exception | None]] = []
        for message in messages:
            parsed = envelopes[message.message_id]
            if isinstance(parsed, Exception):
                fates.append((message, parsed))
            else:
                fates.append((message, batch_error or failures.get(parsed.id)))
        outcomes = sort_outcomes(fates, service=self._service, policy=self._policy)
        self._settle(outcomes)
        watch.done(envelopes, outcomes)
        self.stats.add(
            batches=1,
            received=len(messages),
            stored=len(outcomes.done),
            retried=len(outcomes.retry),
            dead_lettered=len(outcomes.dead),
        )
        log.info(
            "batch_handled",
            messages=len(messages),
            events=len(unique),
            stored=len(outcomes.done),
            retried=len(outcomes.retry),
            dead_lettered=len(outcomes.dead),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return outcomes

    def _call_handler(self, events: list[Envelope]) -> tuple[Mapping[str, Exception], Exception | None]:
        if not events:
            return {}, None
        try:
            return self._handler(events), None
        except TributaryError as exc:
            log.warning("batch_failed", error_type=type(exc).__name__, error=str(exc), events=len(events))
            return {}, exc
        except Exception as exc:  # a handler bug must not lose the batch: it is retried, then dead-lettered
            log.exception("handler_crashed", events=len(events))
            return {}, exc

    def _settle(self, outcomes: Outcomes) -> None:
        """Tell the queue each message's fate; queue failures leave messages to reappear, never lost."""
        try:
            unsent = self._queue.dead_letter(outcomes.dead)
            for letter in outcomes.dead:
                with structlog.contextvars.bound_contextvars(message_id=letter.message.message_id):
                    log.warning("dead_lettered", **letter.attributes)
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
                by_delay[self._policy.backoff_s(message.receive_count)].append(message)
            for delay, group in by_delay.items():
                self._queue.change_visibility(group, delay)
        except RetryableError as exc:
            log.warning("settle_failed", error=str(exc))
