"""uvicorn with bounds on slow and numerous clients, for every service that serves HTTP.

uvicorn closes a connection that idles between requests (``timeout_keep_alive``), but waits forever for
the headers of a request that trickle in a byte at a time: :func:`bounded_h11` gives its HTTP/1.1 protocol
a header deadline. Bodies are bounded by the app, which reads them under a deadline of its own.
:func:`server_options` holds the rest: connection cap (``limit_concurrency``: beyond it new requests get a
503 at once), keep-alive, and the largest header block (``h11_max_incomplete_event_size``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True, kw_only=True)
class ServerLimits:
    """How long and how many clients a server waits for."""

    header_timeout_s: float = 10.0
    keep_alive_s: float = 5.0
    max_connections: int = 1000
    max_header_bytes: int = 16 * 1024


class _HeaderDeadline(H11Protocol):
    """An H11Protocol that closes a connection whose request headers are not complete in time."""

    header_timeout_s = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._disarm()
            self._arm()  # the next request's headers, on a kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.header_timeout_s, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def bounded_h11(header_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol with a deadline of ``header_timeout_s`` for each request's headers,
    counted from the connection or, on a kept-alive one, from the end of the previous response (an idle
    kept-alive connection is closed by whichever of this and ``timeout_keep_alive`` comes first)."""
    return type("BoundedH11Protocol", (_HeaderDeadline,), {"header_timeout_s": header_timeout_s})


def server_options(limits: ServerLimits) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config``/``uvicorn.run`` that apply ``limits``."""
    return {
        "http": bounded_h11(limits.header_timeout_s),
        "timeout_keep_alive": limits.keep_alive_s,
        "limit_concurrency": limits.max_connections,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }
