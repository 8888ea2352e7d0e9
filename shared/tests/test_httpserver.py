"""Tests of the bounded uvicorn: slow headers are cut off, kept-alive connections too, normal ones answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from shared.httpserver import ServerLimits, server_options
from shared.testkit.waiting import wait_for


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    limits = ServerLimits(header_timeout_s=2.0, keep_alive_s=30, max_connections=50)  # roomy under load
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **server_options(limits))
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    assert wait_for(lambda: running.started, timeout_s=10, interval_s=0.05)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(timeout=10)


def _closed(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (anything it sent first is read and dropped)."""
    try:
        return sock.recv(65536, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def _get(sock: socket.socket) -> bytes:
    """One whole response (status line to body) to a GET on the connection."""
    sock.sendall(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
    sock.settimeout(10)
    response = b""
    while not response.endswith(b'{"ok":true}'):
        part = sock.recv(65536)
        if not part:
            break
        response += part
    sock.settimeout(None)
    return response


def test_a_client_that_never_finishes_its_headers_is_cut_off(server: tuple[str, int]) -> None:
    """Partial headers, then a byte now and then: the server closes the connection after the deadline."""
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost")
        started = time.monotonic()

        def trickle_until_closed() -> bool:
            if _closed(sock):
                return True
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                return True
            return False

        assert wait_for(trickle_until_closed, timeout_s=10, interval_s=0.1), "still open after 10 s"
        assert time.monotonic() - started >= 1.5


def test_an_idle_connection_is_cut_off_too(server: tuple[str, int]) -> None:
    """A connection that sends nothing at all is closed at the header deadline."""
    with socket.create_connection(server) as sock:
        assert wait_for(lambda: _closed(sock), timeout_s=10, interval_s=0.1)


def test_a_kept_alive_connection_gets_a_deadline_for_each_request(server: tuple[str, int]) -> None:
    """Complete requests answer on a kept-alive connection; a partial second request is cut off."""
    with socket.create_connection(server) as sock:
        assert _get(sock).startswith(b"HTTP/1.1 200")
        assert _get(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /ping HTTP/1.1\r\n")
        assert wait_for(lambda: _closed(sock), timeout_s=10, interval_s=0.1)
