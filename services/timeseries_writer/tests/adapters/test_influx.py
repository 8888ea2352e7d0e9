"""Tests of the InfluxDB adapter against a local capture server: exact line protocol, retries, refusals."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tenacity import wait_none

from shared.errors import PermanentError, RetryableError
from timeseries_writer.adapters.influx import InfluxSeriesStore, LineProtocolError, line
from timeseries_writer.adapters.keys import timestamp_ns
from timeseries_writer.model import Point

T0 = datetime(2025, 6, 1, 0, 30, tzinfo=UTC)
Reply = tuple[int, dict[str, Any] | None]


@dataclass
class Captured:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str


@dataclass
class CaptureServer:
    """Records every request; answers each with ``respond(body)`` (default 204)."""

    requests: list[Captured] = field(default_factory=list)
    respond: Callable[[str], Reply] = lambda _body: (204, None)
    url: str = ""


@pytest.fixture
def server() -> Iterator[CaptureServer]:
    capture = CaptureServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            parts = urlsplit(self.path)
            capture.requests.append(Captured(parts.path, parse_qs(parts.query), dict(self.headers), body))
            status, payload = capture.respond(body)
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    capture.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield capture
    httpd.shutdown()
    httpd.server_close()


def _store(url: str, **kwargs: Any) -> InfluxSeriesStore:
    client = httpx.Client(base_url=url, headers={"Authorization": "Token s3cret"}, timeout=5)
    return InfluxSeriesStore(client=client, org="tributary", bucket="series", wait=wait_none(), **kwargs)


def _p(
    event_id: str, value: float = 21.5, *, seconds: int = 0, metric: str = "temperature", **dims: str
) -> Point:
    return Point(
        event_id=event_id,
        metric=metric,
        time=T0 + timedelta(seconds=seconds),
        value=value,
        unit="celsius",
        dimensions=dims or {"site": "site-a", "device": "dev-1"},
    )


def test_points_are_posted_as_exact_line_protocol(server: CaptureServer) -> None:
    """One POST to /api/v2/write with org, bucket, ns precision, the token, and one sorted-tag line each."""
    a, b = _p("a"), _p("b", 22.25, seconds=1, metric="cat.sightings", municipality="131041", status="healthy")
    assert _store(server.url).write([a, b]) == {}
    [request] = server.requests
    assert request.path == "/api/v2/write"
    assert request.query == {"org": ["tributary"], "bucket": ["series"], "precision": ["ns"]}
    assert request.headers["Authorization"] == "Token s3cret"
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert request.body == (
        f'temperature,device=dev-1,site=site-a,unit=celsius value=21.5,event_id="a" {timestamp_ns(a)}\n'
        f"cat.sightings,municipality=131041,status=healthy,unit=celsius"
        f' value=22.25,event_id="b" {timestamp_ns(b)}'
    )


@pytest.mark.parametrize(
    ("metric", "dims", "event_id", "expected_head"),
    [
        ("air quality", {"site": "a"}, "e", "air\\ quality,site=a,unit=celsius"),
        ("a,b", {"site": "a"}, "e", "a\\,b,site=a,unit=celsius"),
        ("m=1", {"site": "a"}, "e", "m=1,site=a,unit=celsius"),
        ("m", {"site": "x y,z=w"}, "e", "m,site=x\\ y\\,z\\=w,unit=celsius"),
        ("m", {"si te": "a"}, "e", "m,si\\ te=a,unit=celsius"),
        ("m", {"site": "back\\slash"}, "e", "m,site=back\\\\slash,unit=celsius"),
        ("m", {"site": "trailing\\"}, "e", "m,site=trailing\\\\,unit=celsius"),
        ("m", {"site": "東京"}, "e", "m,site=東京,unit=celsius"),
    ],
    ids=[
        "space",
        "comma",
        "equals-in-measurement",
        "tag-value",
        "tag-key",
        "backslash",
        "trailing-backslash",
        "utf8",
    ],
)
def test_special_characters_are_escaped(
    metric: str, dims: dict[str, str], event_id: str, expected_head: str
) -> None:
    """Measurements escape commas and spaces; tag keys and values also equals signs; backslashes double."""
    point = Point(event_id=event_id, metric=metric, time=T0, value=1.0, unit="celsius", dimensions=dims)
    assert line(point).split(" value=")[0] == expected_head


def test_string_fields_escape_quotes_and_backslashes() -> None:
    """The event id field is quoted, with ``"`` and ``\\`` escaped."""
    point = _p('id"with\\odd')
    assert ',event_id="id\\"with\\\\odd" ' in line(point)


@pytest.mark.parametrize("bad", ["new\nline", "carriage\rreturn", "tab\there", ""])
def test_values_line_protocol_cannot_carry_are_refused(bad: str) -> None:
    """Newlines and other control characters, or empty names, raise LineProtocolError."""
    with pytest.raises(LineProtocolError):
        line(_p("e", site=bad, device="d"))


def test_an_unwritable_point_fails_its_event_only(server: CaptureServer) -> None:
    """A newline in a dimension is a PermanentError for that event; the others are posted."""
    failures = _store(server.url).write([_p("bad", site="a\nb", device="d"), _p("good")])
    assert list(failures) == ["bad"] and isinstance(failures["bad"], PermanentError)
    assert "control character" in str(failures["bad"])
    assert [r.body.count("\n") + 1 for r in server.requests] == [1]


def test_batches_are_split_and_duplicates_sent_once(server: CaptureServer) -> None:
    """Five distinct points (one repeated) with max_lines=2: three POSTs of 2, 2 and 1 lines."""
    points = [_p(f"e{i}", seconds=i) for i in range(5)]
    store = _store(server.url, max_lines=2)
    assert store.write([*points, points[0]]) == {}
    assert [len(r.body.splitlines()) for r in server.requests] == [2, 2, 1]
    assert store.calls == 3


def test_throttling_and_server_errors_are_retried(server: CaptureServer) -> None:
    """429, then 503, then 204: the same body three times and no failure."""
    replies = iter([(429, {"code": "too many requests"}), (503, None), (204, None)])
    server.respond = lambda _body: next(replies)
    store = _store(server.url)
    assert store.write([_p("a")]) == {}
    assert len({r.body for r in server.requests}) == 1 and len(server.requests) == 3


def test_server_errors_past_the_attempts_are_retryable(server: CaptureServer) -> None:
    """Still 500 after the attempts: RetryableError naming the status."""
    server.respond = lambda _body: (500, {"code": "internal error", "message": "boom"})
    with pytest.raises(RetryableError, match="InfluxDB answered 500"):
        _store(server.url, attempts=3).write([_p("a")])
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [401, 403, 404])
def test_auth_and_missing_bucket_are_retryable_without_retries(server: CaptureServer, status: int) -> None:
    """A bad token or a missing bucket is to be fixed by an operator: RetryableError, one request."""
    server.respond = lambda _body: (status, {"code": "unauthorized", "message": "no such bucket or token"})
    with pytest.raises(RetryableError, match=f"{status}: no such bucket or token"):
        _store(server.url).write([_p("a")])
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 422])
def test_a_refused_batch_is_resent_line_by_line(server: CaptureServer, status: int) -> None:
    """400/422 for the batch: each line alone; only the refused one fails, with InfluxDB's message."""

    def respond(body: str) -> Reply:
        if "\n" in body or 'event_id="b"' in body:
            return status, {"code": "invalid", "message": "partial write: field type conflict"}
        return 204, None

    server.respond = respond
    failures = _store(server.url).write([_p("a"), _p("b", seconds=1), _p("c", seconds=2)])
    assert list(failures) == ["b"]
    assert str(failures["b"]) == "InfluxDB refused temperature of b: partial write: field type conflict"
    assert [len(r.body.splitlines()) for r in server.requests] == [3, 1, 1, 1]


def test_an_unreachable_server_is_retried_then_retryable() -> None:
    """Connection refused on every attempt: RetryableError chained to httpx's error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = _store(f"http://127.0.0.1:{port}", attempts=2)
    with pytest.raises(RetryableError) as caught:
        store.write([_p("a")])
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert store.calls == 2
