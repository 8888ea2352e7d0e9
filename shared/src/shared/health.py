"""A tiny ``GET /healthz`` and ``GET /metrics`` server for processes that serve no other HTTP (workers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthServer:
    """Serves ``/healthz``: 200 with ``check()``'s JSON while ``check()["ok"]`` is true, else 503; and
    ``/metrics``: ``metrics()``, Prometheus text, when given."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        check: Callable[[], dict[str, Any]],
        metrics: Callable[[], bytes] | None = None,
    ) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/metrics" and metrics is not None:
                    self._answer(200, PROMETHEUS_CONTENT_TYPE, metrics())
                elif path == "/healthz":
                    report = check()
                    self._answer(
                        200 if report.get("ok") else 503, "application/json", json.dumps(report).encode()
                    )
                else:
                    self.send_error(404)

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Health probes are not worth a log line each."""

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
