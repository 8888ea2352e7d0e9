"""EventBridge adapter of :class:`~ingest.ports.EventPublisher`.

Batching (10 entries, ``max_request_bytes`` per call), concurrency and retrying only the failed entries are
:class:`shared.putevents.PutEventsSender`'s, the same code the producer SDK sends with.

When a traced request publishes, each chunk's calls are a subsegment of the request's segment, and its
entries' ``TraceHeader`` and envelope ``trace`` name that subsegment as their parent, so each worker's
segment hangs under the PutEvents call that carried its event. (The header keeps its length, so chunk sizes
hold.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from contracts import Envelope
from ingest.ports import PublishFailure
from shared.putevents import MAX_REQUEST_BYTES, Entry, PutEventsSender, envelope_entry
from shared.tracing import Span, current_span

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

    from shared.awsjson import JsonApi


class EventBridgePublisher:
    """Publishes to one EventBridge bus through an injected caller: the lean JSON one or a boto3 client."""

    def __init__(
        self,
        *,
        client: EventBridgeClient | JsonApi,
        bus_name: str,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_attempts: int = 5,
        concurrency: int = 8,
    ) -> None:
        self._bus = bus_name
        self._sender = PutEventsSender(
            client=client,
            max_request_bytes=max_request_bytes,
            max_attempts=max_attempts,
            concurrency=concurrency,
        )

    @property
    def calls(self) -> int:
        """PutEvents calls made so far."""
        return self._sender.calls

    def publish(self, envelopes: Sequence[Envelope]) -> list[PublishFailure]:
        entries = [envelope_entry(e, bus_name=self._bus) for e in envelopes]
        span = current_span()  # read here: the sender's threads do not inherit this context
        if span is None or not span.sampled:
            return self._sender.send(entries)
        return self._sender.send(entries, around_chunk=partial(_traced_call, span, envelopes))


@contextmanager
def _traced_call(span: Span, envelopes: Sequence[Envelope], chunk: list[Entry]) -> Iterator[None]:
    """A PutEvents subsegment around one chunk, named as the parent in its entries' trace headers."""
    with span.child("EventBridge", operation="PutEvents") as call:
        call.metadata(entries=len(chunk))
        header = call.header()
        for index, entry in chunk:
            entry["TraceHeader"] = header
            entry["Detail"] = envelopes[index].model_copy(update={"trace": header}).model_dump_json()
        yield
