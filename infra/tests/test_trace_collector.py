"""Tests of the X-Ray daemon stand-in: the SDK's UDP datagrams decoded and appended, bad ones refused."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.testkit.waiting import wait_for
from shared.tracing import Tracer, udp_emitter
from tributary.trace_collector import TraceCollector, WireFormatError, decode


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[TraceCollector]:
    running = TraceCollector(tmp_path / "traces.jsonl")
    running.start()
    yield running
    running.stop()


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_segments_sent_by_the_sdk_emitter_are_written(collector: TraceCollector) -> None:
    """Segments a service sends to AWS_XRAY_DAEMON_ADDRESS land in the file, one JSON line each."""
    host, _, port = collector.address.partition(":")
    assert host == "127.0.0.1" and int(port) > 0
    tracer = Tracer(service="svc", emitter=udp_emitter(collector.address), sample_rate=1.0)
    for n in range(20):
        with tracer.segment(None, n=n) as span, span.child("S3", operation="PutObject"):
            pass
    wait_for(lambda: len(_lines(collector.path)) == 20, timeout_s=5, interval_s=0.05)
    lines: list[dict[str, Any]] = _lines(collector.path)
    assert sorted(line["annotations"]["n"] for line in lines) == list(range(20))
    assert all(line["subsegments"][0]["name"] == "S3" for line in lines)


def test_datagrams_not_in_the_daemon_format_are_refused(collector: TraceCollector) -> None:
    """Garbage is counted and never written; a good datagram after it still is."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        host, _, port = collector.address.partition(":")
        sock.sendto(b"hello", (host, int(port)))
        sock.sendto(b'{"format":"json","version":1}\n{"id":"a","trace_id":"t","name":"x"}', (host, int(port)))
    wait_for(lambda: collector.path.read_text(encoding="utf-8"), timeout_s=5, interval_s=0.05)
    assert collector.rejected == 1 and _lines(collector.path) == [{"id": "a", "trace_id": "t", "name": "x"}]


@pytest.mark.parametrize(
    ("datagram", "reason"),
    [
        (b'{"format":"json","version":1}', "newline"),
        (b'{"format":"xml","version":1}\n{}', "header"),
        (b'{"format":"json","version":1}\nnot json', "JSON"),
        (b'{"format":"json","version":1}\n{"id":"a"}', "trace_id"),
    ],
)
def test_decode_names_what_is_wrong(datagram: bytes, reason: str) -> None:
    """Each malformed datagram is refused with a reason."""
    with pytest.raises(WireFormatError, match=reason):
        decode(datagram)
