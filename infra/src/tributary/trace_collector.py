"""A small stand-in for the X-Ray daemon: segments sent over UDP, appended to a JSONL file.

Services send segment documents with the daemon's wire format (one datagram each: the JSON header
``{"format": "json", "version": 1}``, a newline, the segment JSON) to ``AWS_XRAY_DAEMON_ADDRESS``. The
stack starts one collector on a free UDP port of 127.0.0.1 and passes its address to every service;
``tributary trace`` reads the file. Datagrams that are not in that format are counted and logged, never
written.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

MAX_DATAGRAM = 65_535
RECEIVE_BUFFER = 8 * 1024 * 1024  # a burst of segments waits here, not on the floor


class WireFormatError(ValueError):
    """A datagram that is not ``{"format": "json", "version": 1}`` + newline + a segment object."""


def decode(datagram: bytes) -> dict[str, Any]:
    """The segment document of one daemon datagram.

    Raises:
        WireFormatError: naming what is wrong with it.
    """
    header, sep, body = datagram.partition(b"\n")
    if not sep:
        raise WireFormatError("no newline after the header")
    try:
        head = json.loads(header)
        segment = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WireFormatError(f"not JSON: {exc}") from exc
    if not isinstance(head, dict) or head.get("format") != "json" or head.get("version") != 1:
        raise WireFormatError(f"unknown header {header[:80]!r}")
    if not isinstance(segment, dict) or not {"trace_id", "id", "name"} <= segment.keys():
        raise WireFormatError("the segment lacks trace_id, id or name")
    return segment


class TraceCollector:
    """Listens on ``127.0.0.1:<free port>`` and appends each segment as one line of ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rejected = 0
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, what ``AWS_XRAY_DAEMON_ADDRESS`` takes."""
        if self._socket is None:
            raise RuntimeError("the collector is not started")
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def start(self) -> None:
        """Bind, truncate ``path`` and start receiving on a daemon thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)  # how soon the thread notices stop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("", encoding="utf-8")
        self._socket = sock
        self._thread = threading.Thread(
            target=self._receive, args=(sock,), name="trace-collector", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop receiving; idempotent. Segments already written stay in the file."""
        sock, self._socket = self._socket, None
        if sock is None:
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        sock.close()

    def _receive(self, sock: socket.socket) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            while not self._stopping.is_set():
                try:
                    datagram = sock.recv(MAX_DATAGRAM)
                except TimeoutError:
                    continue
                try:
                    segment = decode(datagram)
                except WireFormatError as exc:
                    self.rejected += 1
                    log.warning("trace_datagram_rejected", error=str(exc), bytes=len(datagram))
                    continue
                out.write(json.dumps(segment, separators=(",", ":")) + "\n")
                out.flush()
