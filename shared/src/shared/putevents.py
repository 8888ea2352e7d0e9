"""PutEvents done right, once: batching by entry count and request size, retrying only failed entries.

ingest's EventBridge adapter and the producer SDK (``tributary_sdk``) both send through here. Entries go out
in calls of at most :data:`MAX_ENTRIES` entries and ``max_request_bytes`` (sized as AWS sizes them). A call
that fails as a whole fails all its entries as retryable; a partial failure (``FailedEntryCount``) fails only
the entries with an ``ErrorCode``. Retryable failures are sent again alone, with exponential backoff and
jitter (tenacity), until they succeed or the attempts run out; entries the bus refuses as malformed
(:data:`PERMANENT_CODES`) are not retried. Nothing raises for a bus failure: the senders return, per entry,
what still failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from threading import Lock
from typing import TYPE_CHECKING, Any, cast

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import AsyncRetrying, Retrying, retry_if_result, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import wait_base

from contracts import Envelope
from shared.awsjson import JsonApi

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from types_aiobotocore_events import EventBridgeClient as AsyncEventBridgeClient

log = structlog.get_logger()

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
"""PutEvents' limits per call: 10 entries, 256 KiB in total (so also per entry)."""
PERMANENT_CODES = frozenset({"MalformedDetail", "InvalidArgument", "ValidationException"})

Entry = tuple[int, dict[str, Any]]
"""A PutEvents entry and its index in the sequence the caller sent."""
AroundChunk = Callable[[list[Entry]], AbstractContextManager[None]]
"""What a sender enters around each chunk's calls (see :meth:`PutEventsSender.send`)."""


def _nothing_around(chunk: list[Entry]) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass(frozen=True, kw_only=True)
class EntryFailure:
    """An entry the bus did not take: ``index`` into the sent sequence, the bus's code and message."""

    index: int
    code: str
    message: str
    retryable: bool


def envelope_entry(envelope: Envelope, *, bus_name: str) -> dict[str, Any]:
    """The PutEvents entry of ``envelope``: ``DetailType`` ``<type>.v<version>``, the envelope as ``Detail``,
    its trace header as ``TraceHeader``."""
    entry: dict[str, Any] = {
        "EventBusName": bus_name,
        "Source": envelope.source,
        "DetailType": envelope.detail_type,
        "Detail": envelope.model_dump_json(),
        "Time": envelope.time,
    }
    if envelope.trace:
        entry["TraceHeader"] = envelope.trace
    return entry


def entry_size(entry: dict[str, Any]) -> int:
    """PutEvents entry size as AWS computes it: Source, DetailType, Detail, Resources, and 14 for Time."""
    parts = [entry.get("Source", ""), entry.get("DetailType", ""), entry.get("Detail", "")]
    parts.extend(entry.get("Resources", []))
    return sum(len(p.encode()) for p in parts) + (14 if "Time" in entry else 0)


def runs[T](
    items: Sequence[T], *, size_of: Callable[[T], int], max_bytes: int, max_entries: int = MAX_ENTRIES
) -> Iterator[list[T]]:
    """Consecutive runs of at most ``max_entries`` items and ``max_bytes`` (an item bigger than that goes
    alone): the batching of every AWS batch call (PutEvents here, SQS's in the operator CLI)."""
    run: list[T] = []
    size = 0
    for item in items:
        item_size = size_of(item)
        if run and (len(run) == max_entries or size + item_size > max_bytes):
            yield run
            run, size = [], 0
        run.append(item)
        size += item_size
    if run:
        yield run


def chunks(entries: Sequence[Entry], max_bytes: int) -> Iterator[list[Entry]]:
    """Consecutive runs of at most :data:`MAX_ENTRIES` entries and ``max_bytes``, sized as AWS sizes them."""
    return runs(entries, size_of=lambda item: entry_size(item[1]), max_bytes=max_bytes)


def default_wait() -> wait_base:
    """Backoff between attempts on one chunk: exponential (x 50 ms), capped at 2 s, with jitter."""
    return wait_exponential_jitter(multiplier=0.05, max=2.0, jitter=0.05)


def retry_policy(*, max_attempts: int, wait: wait_base) -> dict[str, Any]:
    """tenacity ``Retrying``/``AsyncRetrying`` arguments: call again while the attempt returns something
    left to send, at most ``max_attempts`` times; after the last, return what is left instead of raising."""
    return {
        "stop": stop_after_attempt(max_attempts),
        "wait": wait,
        "retry": retry_if_result(bool),
        "retry_error_callback": lambda state: state.outcome.result() if state.outcome else None,
    }


@dataclass(kw_only=True)
class _Chunk:
    """One chunk's retry state: the entries still to send and what failed so far."""

    pending: list[Entry]
    final: list[EntryFailure] = field(default_factory=list)
    last: dict[int, EntryFailure] = field(default_factory=dict)

    def record(self, outcome: tuple[list[Entry], dict[int, EntryFailure]]) -> list[Entry]:
        """Take one call's outcome; returns the entries to retry."""
        retry, failures = outcome
        self.final.extend(f for f in failures.values() if not f.retryable)
        self.last.update(failures)
        self.pending = retry
        return retry

    def failures(self) -> list[EntryFailure]:
        if self.pending:
            log.warning(
                "put_events_gave_up", entries=len(self.pending), code=self.last[self.pending[0][0]].code
            )
        return self.final + [self.last[index] for index, _ in self.pending]


def _request(pending: list[Entry]) -> list[PutEventsRequestEntryTypeDef]:
    """The ``Entries`` of one call: the callers' entries are plain dicts of PutEvents' entry fields."""
    return [cast("PutEventsRequestEntryTypeDef", entry) for _, entry in pending]


def _sort_response(
    pending: list[Entry], response: Mapping[str, Any]
) -> tuple[list[Entry], dict[int, EntryFailure]]:
    retry: list[Entry] = []
    failures: dict[int, EntryFailure] = {}
    for (index, entry), result in zip(pending, response["Entries"], strict=True):
        code = result.get("ErrorCode")
        if not code:
            continue
        retryable = code not in PERMANENT_CODES
        failures[index] = EntryFailure(
            index=index, code=code, message=result.get("ErrorMessage", ""), retryable=retryable
        )
        if retryable:
            retry.append((index, entry))
    return retry, failures


def _json_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as PutEvents' JSON takes it: ``Time`` in epoch seconds (what botocore would send)."""
    when = entry.get("Time")
    return entry if when is None else entry | {"Time": when.timestamp()}


def _sort_error(
    pending: list[Entry], exc: ClientError | BotoCoreError
) -> tuple[list[Entry], dict[int, EntryFailure]]:
    code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
    return pending, {
        i: EntryFailure(index=i, code=code, message=str(exc), retryable=True) for i, _ in pending
    }


class _Sender:
    """What both senders share: limits, the retry policy and the call counter."""

    def __init__(self, *, max_request_bytes: int, max_attempts: int, wait: wait_base | None) -> None:
        self._max_bytes = max_request_bytes
        self._attempts = max_attempts
        self._wait = wait or default_wait()
        self._lock = Lock()
        self.calls = 0

    def _chunks(self, entries: Sequence[dict[str, Any]]) -> list[_Chunk]:
        return [_Chunk(pending=c) for c in chunks(list(enumerate(entries)), self._max_bytes)]

    def _policy(self) -> dict[str, Any]:
        return retry_policy(max_attempts=self._attempts, wait=self._wait)

    def _count(self) -> None:
        with self._lock:
            self.calls += 1


class PutEventsSender(_Sender):
    """Sends entries through the lean JSON caller (:mod:`shared.awsjson`, what ingest uses) or a boto3
    ``events`` client, several calls at once (a thread pool).

    With ``raise_call_errors`` an error of a whole call (after botocore's own retries) propagates from
    :meth:`send` instead of failing the call's entries: for callers that stop at an outage (the operator CLI).
    """

    def __init__(
        self,
        *,
        client: EventBridgeClient | JsonApi,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_attempts: int = 5,
        concurrency: int = 8,
        wait: wait_base | None = None,
        raise_call_errors: bool = False,
    ) -> None:
        super().__init__(max_request_bytes=max_request_bytes, max_attempts=max_attempts, wait=wait)
        self._client = client
        self._raise_call_errors = raise_call_errors
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="put-events")

    def send(
        self, entries: Sequence[dict[str, Any]], *, around_chunk: AroundChunk | None = None
    ) -> list[EntryFailure]:
        """Put ``entries`` on the bus; returns the failures left after retries, by index into ``entries``.

        ``around_chunk(chunk)``, if given, is entered around each chunk's calls (retries included), on the
        thread that sends it, and may rewrite the chunk's entries first (a trace header, say).
        """
        send = partial(self._send_chunk, around_chunk or _nothing_around)
        results = self._pool.map(send, self._chunks(entries))
        return [failure for chunk_failures in results for failure in chunk_failures]

    def _send_chunk(self, around: AroundChunk, chunk: _Chunk) -> list[EntryFailure]:
        with around(chunk.pending):
            Retrying(**self._policy())(lambda: chunk.record(self._put_once(chunk.pending)))
        return chunk.failures()

    def _put_once(self, pending: list[Entry]) -> tuple[list[Entry], dict[int, EntryFailure]]:
        self._count()
        try:
            if isinstance(self._client, JsonApi):
                response = self._client.call("PutEvents", {"Entries": [_json_entry(e) for _, e in pending]})
            else:
                response = self._client.put_events(Entries=_request(pending))
        except (ClientError, BotoCoreError) as exc:
            if self._raise_call_errors:
                raise
            return _sort_error(pending, exc)
        return _sort_response(pending, response)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class AsyncPutEventsSender(_Sender):
    """Sends entries through an asyncio ``events`` client (aioboto3), up to ``concurrency`` calls at once."""

    def __init__(
        self,
        *,
        client: AsyncEventBridgeClient,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_attempts: int = 5,
        concurrency: int = 8,
        wait: wait_base | None = None,
    ) -> None:
        super().__init__(max_request_bytes=max_request_bytes, max_attempts=max_attempts, wait=wait)
        self._client = client
        self._concurrency = concurrency

    async def send(self, entries: Sequence[dict[str, Any]]) -> list[EntryFailure]:
        """Put ``entries`` on the bus; returns the failures left after retries, by index into ``entries``."""
        gate = asyncio.Semaphore(self._concurrency)

        async def one(chunk: _Chunk) -> list[EntryFailure]:
            async with gate:
                await AsyncRetrying(**self._policy())(self._attempt, chunk)
            return chunk.failures()

        results = await asyncio.gather(*(one(c) for c in self._chunks(entries)))
        return [failure for chunk_failures in results for failure in chunk_failures]

    async def _attempt(self, chunk: _Chunk) -> list[Entry]:
        self._count()
        try:
            response = await self._client.put_events(Entries=_request(chunk.pending))
        except (ClientError, BotoCoreError) as exc:
            return chunk.record(_sort_error(chunk.pending, exc))
        return chunk.record(_sort_response(chunk.pending, response))
