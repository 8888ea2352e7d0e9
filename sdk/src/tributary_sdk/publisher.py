"""``Publisher`` and ``AsyncPublisher``: the producer's side of Tributary.

Each ``publish`` call validates every event against its contract first (an invalid or oversize event is
refused with its reason and never sent), gives events without an id a sortable one, opens one trace (or
continues ``trace``) that travels with every event, sends the rest, straight to the bus with PutEvents or
through ingest's HTTP API, and returns one :class:`~tributary_sdk.events.PublishResult` per event, in the
order given. Bus failures never raise: they are results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, Self

import httpx
from tenacity.wait import wait_base

from shared.putevents import MAX_REQUEST_BYTES, AsyncPutEventsSender, PutEventsSender
from shared.tracing import continue_or_start
from tributary_sdk.bus import AsyncBusTransport, BusTransport
from tributary_sdk.events import Event, Prepared, PublishResult, prepare
from tributary_sdk.ingest import AsyncIngestTransport, IngestTransport, auth_headers

DEFAULT_BUS = "tributary"


class _Transport(Protocol):
    def send(self, prepared: Sequence[Prepared], *, trace: str) -> list[PublishResult]: ...

    def close(self) -> None: ...


class _AsyncTransport(Protocol):
    async def send(self, prepared: Sequence[Prepared], *, trace: str) -> list[PublishResult]: ...

    async def close(self) -> None: ...


def _ordered(refused: list[PublishResult], sent: list[PublishResult]) -> list[PublishResult]:
    return sorted([*refused, *sent], key=lambda r: r.index)


class _Preparing[T]:
    """What both publishers share: the transport, the source and bus events get, the size limit, and
    preparing a call (its trace header, the events ready to send, those refused)."""

    def __init__(
        self,
        *,
        transport: T,
        source: str,
        bus_name: str = DEFAULT_BUS,
        max_event_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._transport = transport
        self._source = source
        self._bus = bus_name
        self._max_event_bytes = max_event_bytes

    def _prepare(
        self, events: Sequence[Event], trace: str | None
    ) -> tuple[str, list[Prepared], list[PublishResult]]:
        header = continue_or_start(trace)
        ready, refused = prepare(
            events,
            source=self._source,
            bus_name=self._bus,
            trace=header,
            max_event_bytes=self._max_event_bytes,
        )
        return header, ready, refused


class Publisher(_Preparing[_Transport]):
    """Publishes events synchronously; build one with :meth:`to_bus` or :meth:`to_ingest`."""

    @classmethod
    def to_bus(
        cls,
        *,
        client: Any,
        source: str,
        bus_name: str = DEFAULT_BUS,
        max_attempts: int = 5,
        concurrency: int = 8,
        wait: wait_base | None = None,
        max_event_bytes: int = MAX_REQUEST_BYTES,
    ) -> Publisher:
        """Publish with PutEvents through ``client``, a boto3 ``events`` client."""
        sender = PutEventsSender(client=client, max_attempts=max_attempts, concurrency=concurrency, wait=wait)
        return cls(
            transport=BusTransport(sender), source=source, bus_name=bus_name, max_event_bytes=max_event_bytes
        )

    @classmethod
    def to_ingest(
        cls,
        url: str,
        *,
        source: str,
        timeout_s: float = 30.0,
        max_attempts: int = 5,
        wait: wait_base | None = None,
        max_event_bytes: int = MAX_REQUEST_BYTES,
        api_key: str | None = None,
    ) -> Publisher:
        """Publish through ingest's ``POST /v1/events`` at ``url`` as the producer whose API key is
        ``api_key`` (default: ``$TRIBUTARY_API_KEY``)."""
        client = httpx.Client(base_url=url, timeout=timeout_s, headers=auth_headers(api_key))
        return cls(
            transport=IngestTransport(client=client, max_attempts=max_attempts, wait=wait),
            source=source,
            max_event_bytes=max_event_bytes,
        )

    def publish(self, events: Sequence[Event], *, trace: str | None = None) -> list[PublishResult]:
        """Validate, then send ``events``; one result per event, in order. ``trace``: an X-Ray trace header
        to continue (a new trace otherwise)."""
        header, ready, refused = self._prepare(events, trace)
        sent = self._transport.send(ready, trace=header) if ready else []
        return _ordered(refused, sent)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPublisher(_Preparing[_AsyncTransport]):
    """Publishes events from asyncio code; build one with :meth:`to_bus` or :meth:`to_ingest`."""

    @classmethod
    def to_bus(
        cls,
        *,
        client: Any,
        source: str,
        bus_name: str = DEFAULT_BUS,
        max_attempts: int = 5,
        concurrency: int = 8,
        wait: wait_base | None = None,
        max_event_bytes: int = MAX_REQUEST_BYTES,
    ) -> AsyncPublisher:
        """Publish with PutEvents through ``client``, an aiobotocore ``events`` client (entered by the caller:
        ``async with get_session().create_client("events", …) as client``)."""
        sender = AsyncPutEventsSender(
            client=client, max_attempts=max_attempts, concurrency=concurrency, wait=wait
        )
        return cls(
            transport=AsyncBusTransport(sender),
            source=source,
            bus_name=bus_name,
            max_event_bytes=max_event_bytes,
        )

    @classmethod
    def to_ingest(
        cls,
        url: str,
        *,
        source: str,
        timeout_s: float = 30.0,
        max_attempts: int = 5,
        wait: wait_base | None = None,
        max_event_bytes: int = MAX_REQUEST_BYTES,
        api_key: str | None = None,
    ) -> AsyncPublisher:
        """Publish through ingest's ``POST /v1/events`` at ``url`` as the producer whose API key is
        ``api_key`` (default: ``$TRIBUTARY_API_KEY``)."""
        client = httpx.AsyncClient(base_url=url, timeout=timeout_s, headers=auth_headers(api_key))
        return cls(
            transport=AsyncIngestTransport(client=client, max_attempts=max_attempts, wait=wait),
            source=source,
            max_event_bytes=max_event_bytes,
        )

    async def publish(self, events: Sequence[Event], *, trace: str | None = None) -> list[PublishResult]:
        """As :meth:`Publisher.publish`."""
        header, ready, refused = self._prepare(events, trace)
        sent = await self._transport.send(ready, trace=header) if ready else []
        return _ordered(refused, sent)

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
