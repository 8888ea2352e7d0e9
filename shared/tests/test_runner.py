"""Tests of serving a worker's read API beside its health check."""

from __future__ import annotations

import socket
import time

import httpx
from fastapi import FastAPI

from shared.runner import ApiServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_server_serves_the_app_and_healthz() -> None:
    """The service's routes, /healthz and /metrics answer on one port; health follows the check."""
    app = FastAPI()

    @app.get("/things/{name}")
    def thing(name: str) -> dict[str, str]:
        return {"name": name}

    healthy = {"ok": True}
    port = _free_port()
    server = ApiServer(
        app,
        host="127.0.0.1",
        port=port,
        check=lambda: dict(healthy, service="svc"),
        metrics=lambda: b"up 1\n",
    )
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(url + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert httpx.get(url + "/things/a").json() == {"name": "a"}
        assert httpx.get(url + "/healthz").json() == {"ok": True, "service": "svc"}
        metrics = httpx.get(url + "/metrics")
        assert metrics.text == "up 1\n" and metrics.headers["content-type"].startswith(
            "text/plain; version=0.0.4"
        )
        healthy["ok"] = False
        assert httpx.get(url + "/healthz").status_code == 503
    finally:
        server.stop()
