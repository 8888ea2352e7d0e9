"""In-memory fake of :class:`~ingest.ports.EventPublisher` for tests of the API and of producers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from contracts import Envelope
from ingest.ports import PublishFailure


class InMemoryPublisher:
    """Keeps what it publishes; ``fail`` decides a failure per envelope (``None``: published)."""

    def __init__(self, fail: Callable[[Envelope], PublishFailure | None] | None = None) -> None:
        self.published: list[Envelope] = []
        self._fail = fail

    def publish(self, envelopes: Sequence[Envelope]) -> list[PublishFailure]:
        failures = []
        for index, envelope in enumerate(envelopes):
            failure = self._fail(envelope) if self._fail else None
            if failure:
                failures.append(
                    PublishFailure(
                        index=index, code=failure.code, message=failure.message, retryable=failure.retryable
                    )
                )
            else:
                self.published.append(envelope)
        return failures
