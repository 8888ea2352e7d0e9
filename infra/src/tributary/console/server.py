"""Serving the console from a thread of the process that asks (``tributary up``, ``tributary console``,
the tests): uvicorn on 127.0.0.1, on a free port unless one is given."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from tributary.console.app import create_app
from tributary.console.source import StackSource

HOST = "127.0.0.1"


class ConsoleError(RuntimeError):
    """The console did not start (its port is taken, or the server failed)."""


class ConsoleServer:
    """The console over ``source`` on ``127.0.0.1:port`` (0: a free one); :attr:`url` once started."""

    def __init__(self, source: StackSource, *, port: int = 0, start_timeout_s: float = 10.0) -> None:
        self._source = source
        self._port = port
        self._start_timeout_s = start_timeout_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        if self._socket is None:
            raise ConsoleError("the console is not running")
        return f"http://{HOST}:{self._socket.getsockname()[1]}"

    def start(self) -> str:
        """Bind, serve from a daemon thread, wait until it answers; returns the URL.

        Raises:
            ConsoleError: the port is taken or the server did not come up in time.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self._port))
        except OSError as exc:
            sock.close()
            raise ConsoleError(f"cannot bind the console to {HOST}:{self._port}: {exc.strerror}") from exc
        self._socket = sock
        app = create_app(self._source)
        # Off the main thread uvicorn installs no signal handlers: the owning process keeps its own.
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="console", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout_s
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConsoleError("the console server did not start")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self._source.close()
