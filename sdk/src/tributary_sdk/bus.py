"""Publishing straight to the EventBridge bus, through :mod:`shared.putevents` (the code ingest uses)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.putevents import AsyncPutEventsSender, EntryFailure, PutEventsSender
from tributary_sdk.events import Prepared, PublishResult


def bus_results(prepared: Sequence[Prepared], failures: Sequence[EntryFailure]) -> list[PublishResult]:
    """One result per prepared event: failed where the sender reports a failure for its position."""
    failed = {f.index: f for f in failures}
    results = []
    for position, item in enumerate(prepared):
        failure = failed.get(position)
        if failure is None:
            results.append(PublishResult(index=item.index, id=item.envelope.id, ok=True))
        else:
            results.append(
                PublishResult(
                    index=item.index,
                    id=item.envelope.id,
                    ok=False,
                    code=failure.code,
                    message=failure.message,
                )
            )
    return results


class BusTransport:
    """Sends prepared events with PutEvents (batched, only failed entries retried)."""

    def __init__(self, sender: PutEventsSender) -> None:
        self.sender = sender

    def send(self, prepared: Sequence[Prepared], *, trace: str) -> list[PublishResult]:
        """Send; ``trace`` already travels in each entry (``TraceHeader`` and the envelope)."""
        return bus_results(prepared, self.sender.send([p.entry for p in prepared]))

    def close(self) -> None:
        self.sender.close()


class AsyncBusTransport:
    """:class:`BusTransport` over an asyncio ``events`` client (aiobotocore)."""

    def __init__(self, sender: AsyncPutEventsSender) -> None:
        self.sender = sender

    async def send(self, prepared: Sequence[Prepared], *, trace: str) -> list[PublishResult]:
        """Send; ``trace`` already travels in each entry (``TraceHeader`` and the envelope)."""
        return bus_results(prepared, await self.sender.send([p.entry for p in prepared]))

    async def close(self) -> None:
        return None
