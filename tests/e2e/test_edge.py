"""The edge under attack, on the running stack: slow clients are cut off while /healthz and a normal
producer keep answering; requests without a valid key, or with events the producer may not send, are
refused.

Clients connect over loopback only (the stack binds 127.0.0.1); every loop is bounded by a deadline.
"""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shared.testkit.samples import fresh_sample
from tributary.client import StackClient

pytestmark = pytest.mark.e2e

SLOW_CLIENTS = 200
# The suite's ingest waits 3 s for headers and 5 s for a body (E2E_SERVICE_ENV), a given stack its own
# deadlines (by default 10 s and 30 s); the rest is for a loaded machine.
CUT_OFF_WITHIN_S = 90.0


def _address(stack_description: dict[str, Any]) -> tuple[str, int]:
    url = urlsplit(stack_description["ingest_url"])
    if url.hostname not in {"127.0.0.1", "localhost", "::1"}:
        pytest.skip("the slow-client test only runs against a loopback ingest")
    return url.hostname, url.port or 80


def _open_slow_clients(address: tuple[str, int], headers: dict[str, str]) -> list[socket.socket]:
    """Half send headers that never end, half full headers and a body that never ends."""
    auth = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    clients = []
    for n in range(SLOW_CLIENTS):
        sock = socket.create_connection(address, timeout=5)
        if n % 2:
            sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: ingest\r\nX-Slow")
        else:
            head = (
                "POST /v1/events HTTP/1.1\r\nHost: ingest\r\nContent-Type: application/json\r\n"
                f"Content-Length: 100000\r\n{auth}\r\n"
            )
            sock.sendall(head.encode() + b'{"events": [')
        sock.setblocking(False)
        clients.append(sock)
    return clients


def _still_open(sock: socket.socket) -> bool:
    """Send one more byte; False once the server has closed the connection."""
    try:
        while sock.recv(65536):  # a 408 before the close is fine: read and drop it
            pass
        return False
    except BlockingIOError:
        pass
    except OSError:
        return False
    try:
        sock.send(b" ")
    except BlockingIOError:
        return True
    except OSError:
        return False
    return True


def _publish_one(stack: StackClient) -> httpx.Response:
    event = fresh_sample("sensor.reading", 1)
    return httpx.post(
        stack.description["ingest_url"] + "/v1/events",
        json={"events": [event]},
        headers=stack.ingest_headers(),
        timeout=1.0,
    )


def test_slow_clients_are_cut_off_while_health_and_producers_answer(
    stack_description: dict[str, Any], stack: StackClient
) -> None:
    """200 slow-header and slow-body clients: /healthz and a producer's request each answer within 1 s
    meanwhile, and the server closes every slow connection."""
    address = _address(stack_description)
    clients = _open_slow_clients(address, stack.ingest_headers())
    try:
        deadline = time.monotonic() + CUT_OFF_WITHIN_S
        probes: list[tuple[float, float]] = []
        open_ = list(clients)
        while open_ and time.monotonic() < deadline:
            if len(probes) < 5:
                t0 = time.monotonic()
                health = httpx.get(stack_description["ingest_url"] + "/healthz", timeout=1.0)
                t1 = time.monotonic()
                published = _publish_one(stack)
                t2 = time.monotonic()
                assert health.status_code == 200 and published.status_code == 202, published.text
                probes.append((t1 - t0, t2 - t1))
            open_ = [sock for sock in open_ if _still_open(sock)]
            time.sleep(0.5)
        assert not open_, (
            f"{len(open_)} of {SLOW_CLIENTS} slow clients still connected after {CUT_OFF_WITHIN_S} s"
        )
        assert len(probes) == 5
        assert max(max(p) for p in probes) < 1.0, probes
        cut_off_s = CUT_OFF_WITHIN_S - (deadline - time.monotonic())
        print(
            f"\nedge e2e: {SLOW_CLIENTS} slow clients cut off within {cut_off_s:.1f}s; /healthz and a"
            f" producer answered in at most {max(max(p) for p in probes) * 1000:.0f} ms meanwhile"
        )
    finally:
        for sock in clients:
            sock.close()


def test_requests_without_a_valid_key_are_401_and_foreign_events_403(stack: StackClient) -> None:
    """No key, a made-up key: 401 with a reason and no key echoed; an ops.* event from the local producer:
    403 (only the platform raises alarms)."""
    url = stack.description["ingest_url"] + "/v1/events"
    event = fresh_sample("sensor.reading", 1)
    anonymous = httpx.post(url, json={"events": [event]}, timeout=10)
    forged_key = "trb_0123456789ab_" + "A" * 43
    forged = httpx.post(
        url, json={"events": [event]}, headers={"authorization": f"Bearer {forged_key}"}, timeout=10
    )
    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert "0123456789ab is unknown or revoked" in forged.json()["error"]["message"]
    assert forged_key not in forged.text
    alarm = fresh_sample("ops.dlq_depth", 1)
    response = httpx.post(url, json={"events": [alarm]}, headers=stack.ingest_headers(), timeout=10)
    assert response.status_code == 403
    assert response.json()["error"]["events"] == [
        {"index": 0, "loc": "type", "msg": "ops.dlq_depth events come only from the platform itself"}
    ]
