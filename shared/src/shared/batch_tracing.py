"""One X-Ray segment per handled message, in that message's own trace.

X-Ray has no multi-parent links, so a batch is not one segment: each message gets a segment continuing its
header (the SQS ``AWSTraceHeader`` when the queue kept it, else the envelope's ``trace``), parented on the
ingest PutEvents subsegment named by the header's ``Parent=``, annotated with the event id, type, outcome
and attempt, and holding the batch's store and queue calls as subsegments. Segments are built after the
batch from recorded times, so nothing depends on the thread or task that did the work.
"""

from __future__ import annotations

from shared.errors import PermanentError
from shared.messages import DeadLetter, Message
from shared.observe import BatchReport
from shared.tracing import Annotation, Tracer


class DeadLettered(Exception):
    """Why a message went to the DLQ, as its trace shows it."""


class BatchTracer:
    """A :class:`~shared.observe.BatchSink` emitting each message's segment through ``tracer``."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def __call__(self, report: BatchReport) -> None:
        if not self._tracer.enabled:
            return
        retried = {m.message_id: error for m, error in report.outcomes.retry}
        dead = {d.message.message_id: d for d in report.outcomes.dead}
        unavailable = {m.message_id: error for m, error in report.outcomes.unavailable}
        for message in report.messages:
            parsed = report.envelopes.get(message.message_id)
            header = message.trace_header
            annotations: dict[str, Annotation] = {"attempt": message.receive_count, "outcome": "stored"}
            failure: BaseException | None = None
            fault = True
            if parsed is not None and not isinstance(parsed, Exception):
                header = header or parsed.trace
                annotations |= {"event_id": parsed.id, "event_type": parsed.detail_type}
            if message.message_id in retried:
                annotations["outcome"] = "retried"
                failure = retried[message.message_id]
            elif message.message_id in unavailable:
                annotations["outcome"] = "store_unavailable"
                failure = unavailable[message.message_id]
            elif message.message_id in dead:
                annotations["outcome"] = "dead_lettered"
                failure, fault = _dead_lettered(message, dead[message.message_id])
            if not header:
                continue  # a body with no envelope and no AWSTraceHeader belongs to no trace
            self._tracer.emit(
                header,
                start=report.started,
                end=report.ended,
                annotations=annotations,
                calls=report.calls,
                failure=failure,
                fault=fault and not isinstance(failure, PermanentError),
            )


def _dead_lettered(message: Message, letter: DeadLetter) -> tuple[BaseException, bool]:
    failure = letter.failure
    reason = failure.reason if failure else ""
    error = f"{failure.error_type}: {failure.error_message}" if failure else "unknown"
    return DeadLettered(f"{reason} after {message.receive_count} attempt(s): {error}"), reason != "permanent"
