"""EventBridge adapter of :class:`~ingest.ports.EventPublisher`.

Entries go out in PutEvents calls of at most 10 entries and ``max_request_bytes`` (sized as AWS sizes them),
several calls at once. Failed entries are retried alone, with exponential backoff and jitter (tenacity),
until they succeed or the attempts run out; entries the bus refuses as malformed are not retried.

When a traced request publishes, each call is a subsegment of the request's segment, and its entries'
``TraceHeader`` and envelope ``trace`` name that subsegment as their parent, so each worker's segment hangs
under the PutEvents call that carried its event. (The header keeps its length, so chunk sizes hold.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential_jitter

from contracts import Envelope
from ingest.ports import PublishFailure
from shared.tracing import Span, current_span

log = structlog.get_logger()

MAX_ENTRIES = 10
PERMANENT_CODES = frozenset({"MalformedDetail", "InvalidArgument", "ValidationException"})

Entry = tuple[int, dict[str, Any]]


def entry_size(entry: dict[str, Any]) -> int:
    """PutEvents entry size as AWS computes it: Source, DetailType, Detail, Resources, and 14 for Time."""
    parts = [entry.get("Source", ""), entry.get("DetailType", ""), entry.get("Detail", "")]
    parts.extend(entry.get("Resources", []))
    return sum(len(p.encode()) for p in parts) + (14 if "Time" in entry else 0)


def chunks(entries: Sequence[Entry], max_bytes: int) -> Iterator[list[Entry]]:
    """Consecutive runs of at most 10 entries and ``max_bytes``."""
    chunk: list[Entry] = []
    size = 0
    for item in entries:
        item_size = entry_size(item[1])
        if chunk and (len(chunk) == MAX_ENTRIES or size + item_size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


class EventBridgePublisher:
    """Publishes to one EventBridge bus through an injected boto3 ``events`` client."""

    def __init__(
        self,
        *,
        client: Any,
        bus_name: str,
        max_request_bytes: int = 256 * 1024,
        max_attempts: int = 5,
        concurrency: int = 8,
    ) -> None:
        self._client = client
        self._bus = bus_name
        self._max_bytes = max_request_bytes
        self._attempts = max_attempts
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="put-events")
        self._lock = Lock()
        self.calls = 0

    def publish(self, envelopes: Sequence[Envelope]) -> list[PublishFailure]:
        entries = [(i, self._entry(e)) for i, e in enumerate(envelopes)]
        span = current_span()  # read here: the pool's threads do not inherit this context

        def send(chunk: list[Entry]) -> list[PublishFailure]:
            if span is None or not span.recording:
                return self._send(chunk)
            with span.child("EventBridge", operation="PutEvents") as call:
                call.metadata(entries=len(chunk))
                for index, entry in chunk:
                    self._reparent(entry, envelopes[index], call)
                return self._send(chunk)

        results = self._pool.map(send, chunks(entries, self._max_bytes))
        return [failure for chunk_failures in results for failure in chunk_failures]

    @staticmethod
    def _reparent(entry: dict[str, Any], envelope: Envelope, call: Span) -> None:
        """Name ``call`` as the parent in the entry's trace header and in the envelope it carries."""
        header = call.header()
        entry["TraceHeader"] = header
        entry["Detail"] = envelope.model_copy(update={"trace": header}).model_dump_json()

    def _entry(self, envelope: Envelope) -> dict[str, Any]:
        entry = {
            "EventBusName": self._bus,
            "Source": envelope.source,
            "DetailType": envelope.detail_type,
            "Detail": envelope.model_dump_json(),
            "Time": envelope.time,
        }
        if envelope.trace:
            entry["TraceHeader"] = envelope.trace
        return entry

    def _send(self, chunk: list[Entry]) -> list[PublishFailure]:
        """Send one chunk, retrying only its failed entries; the failures left at the end."""
        final: list[PublishFailure] = []
        pending = chunk
        last: dict[int, PublishFailure] = {}

        def attempt() -> list[Entry]:
            nonlocal pending
            retry, failures = self._put_once(pending)
            final.extend(f for f in failures.values() if not f.retryable)
            last.update(failures)
            pending = retry
            return retry

        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(multiplier=0.05, max=2.0, jitter=0.05),
            retry=retry_if_result(bool),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else pending,
        )
        left = retrying(attempt)
        final.extend(last[index] for index, _ in left)
        if left:
            log.warning("put_events_gave_up", entries=len(left), code=last[left[0][0]].code)
        return final

    def _put_once(self, pending: list[Entry]) -> tuple[list[Entry], dict[int, PublishFailure]]:
        """One PutEvents call: the entries to retry, and every failure of this call by index."""
        with self._lock:
            self.calls += 1
        try:
            response = self._client.put_events(Entries=[entry for _, entry in pending])
        except (ClientError, BotoCoreError) as exc:
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
            failures = {
                i: PublishFailure(index=i, code=code, message=str(exc), retryable=True) for i, _ in pending
            }
            return pending, failures
        retry: list[Entry] = []
        failures = {}
        for (index, entry), result in zip(pending, response["Entries"], strict=True):
            code = result.get("ErrorCode")
            if not code:
                continue
            retryable = code not in PERMANENT_CODES
            failures[index] = PublishFailure(
                index=index, code=code, message=result.get("ErrorMessage", ""), retryable=retryable
            )
            if retryable:
                retry.append((index, entry))
        return retry, failures
