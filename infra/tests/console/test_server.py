"""The console served from a thread on 127.0.0.1, and its store names read from collected segments."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from infra.tests.console.conftest import MANIFESTS
from tributary.console.server import ConsoleError, ConsoleServer
from tributary.console.source import StackSource
from tributary.console.stores import store_names


def test_serves_on_loopback_until_stopped() -> None:
    server = ConsoleServer(StackSource(lambda: {"bus_name": "b"}, manifests=MANIFESTS))
    url = server.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/", timeout=5).status_code == 200
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/", timeout=2)


def test_a_taken_port_is_a_console_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ConsoleServer(StackSource(lambda: {}, manifests=MANIFESTS), port=taken.getsockname()[1])
        with pytest.raises(ConsoleError, match="cannot bind"):
            server.start()


def test_store_names_from_the_tail_most_used_first(tmp_path: Path) -> None:
    """Queue and bus calls are not stores; a line cut by the tail is skipped."""
    path = tmp_path / "traces.jsonl"
    segment = {
        "name": "archiver",
        "subsegments": [{"name": "S3"}, {"name": "S3"}, {"name": "SQLite"}, {"name": "SQS"}],
    }
    lines = [json.dumps({"name": "graph_writer", "subsegments": [{"name": "FalkorDB"}]})] + [
        json.dumps(segment)
    ] * 50
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert store_names(path) == {"graph_writer": ["FalkorDB"], "archiver": ["S3", "SQLite"]}
    assert store_names(path, tail_bytes=len(lines[-1]) * 3) == {"archiver": ["S3", "SQLite"]}
    assert store_names(tmp_path / "absent.jsonl") == {}
