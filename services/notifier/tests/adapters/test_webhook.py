"""Tests of the webhook channel against a real HTTP receiver on 127.0.0.1 (no mocked transport)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from structlog.testing import capture_logs

from notifier.adapters.webhook import WebhookChannel, body_of, redacted
from notifier.model import Alert, EventRef, Notification
from notifier.rules.ruleset import WebhookTarget
from notifier.testing import WebhookReceiver
from shared.errors import PermanentError, RetryableError

SECRET = "test-secret-7f1c"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2, follow_redirects=False) as client:
        yield client


def _channel(
    url: str, http: httpx.Client, *, attempts: int = 3, sleeps: list[float] | None = None
) -> WebhookChannel:
    return WebhookChannel(
        target=WebhookTarget(
            name="ops", url=url, secret=SECRET, allow_private=True
        ),  # the receiver: loopback
        client=http,
        attempts=attempts,
        backoff_s=0.5,
        max_backoff_s=4,
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
        jitter=lambda: 1.0,
    )


def _notification(key: str = "e-1") -> Notification:
    alert = Alert(
        rule="hot",
        key=key,
        subject="dev-1",
        severity="critical",
        message="dev-1 reads 81 °C",
        channels=("ops",),
        cooldown_s=60,
        event=EventRef(
            id=key, type="sensor.reading", version=1, source="iot", time="2025-06-01T00:00:00+00:00"
        ),
    )
    return Notification(alert=alert, channel="ops", raised_at="2025-06-01T00:00:01.000+00:00")


def test_a_notification_is_posted_signed(receiver: WebhookReceiver, http: httpx.Client) -> None:
    """One POST whose signature an independent HMAC computation confirms, with a fresh timestamp."""
    note = _notification()
    _channel(receiver.url("/hook"), http).send(note)
    [request] = receiver.requests("/hook")
    stamp = request.headers["x-tributary-timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-tributary-signature"] == f"sha256={expected}"
    assert abs(int(stamp) - time.time()) < 5
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tributary-delivery-id"] == note.delivery_id
    assert request.body == body_of(note)


def test_the_body_is_the_notification_document(receiver: WebhookReceiver, http: httpx.Client) -> None:
    """Rule, severity, subject, message, the event reference and the delivery id; no payload."""
    note = _notification()
    _channel(receiver.url("/hook"), http).send(note)
    assert receiver.requests("/hook")[0].json == {
        "delivery_id": note.delivery_id,
        "rule": "hot",
        "severity": "critical",
        "subject": "dev-1",
        "message": "dev-1 reads 81 °C",
        "raised_at": "2025-06-01T00:00:01.000+00:00",
        "event": {
            "id": "e-1",
            "type": "sensor.reading",
            "version": 1,
            "source": "iot",
            "time": "2025-06-01T00:00:00+00:00",
        },
    }


def test_failures_are_retried_with_backoff_and_the_same_delivery_id(
    receiver: WebhookReceiver, http: httpx.Client
) -> None:
    """Two 500s then 200: three requests, one delivery id, exponential pauses between them."""
    receiver.fail("/hook", 2)
    sleeps: list[float] = []
    with capture_logs() as logs:
        _channel(receiver.url("/hook"), http, sleeps=sleeps).send(_notification())
    requests = receiver.requests("/hook")
    assert [r.status for r in requests] == [500, 500, 200]
    assert len({r.headers["x-tributary-delivery-id"] for r in requests}) == 1
    assert sleeps == [0.5, 1.0]
    assert [e["attempt"] for e in logs if e["event"] == "webhook_attempt_failed"] == [1, 2]


def test_a_receiver_that_keeps_failing_raises_retryable(
    receiver: WebhookReceiver, http: httpx.Client
) -> None:
    """After the last attempt: RetryableError naming the channel, the host and the last answer."""
    receiver.always_fail("/hook", status=503)
    with pytest.raises(RetryableError) as caught:
        _channel(receiver.url("/hook"), http).send(_notification())
    assert str(caught.value) == (
        f"webhook ops: POST {receiver.base_url}/… failed 3 times, last: answered 503 Service Unavailable"
    )
    assert len(receiver.requests("/hook")) == 3


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_a_refusal_is_permanent_at_once(receiver: WebhookReceiver, http: httpx.Client, status: int) -> None:
    """4xx (but 408/425/429) and redirects are not retried: the event is dead-lettered with the reason."""
    receiver.always_fail("/hook", status=status)
    with pytest.raises(PermanentError, match=f"answered {status}"):
        _channel(receiver.url("/hook"), http).send(_notification())
    assert len(receiver.requests("/hook")) == 1


@pytest.mark.parametrize("status", [408, 425, 429, 502])
def test_transient_statuses_are_retried(receiver: WebhookReceiver, http: httpx.Client, status: int) -> None:
    """Timeouts, too-early, throttling and 5xx answers are retried."""
    receiver.fail("/hook", 1, status=status)
    _channel(receiver.url("/hook"), http).send(_notification())
    assert [r.status for r in receiver.requests("/hook")] == [status, 200]


def test_retry_after_is_honoured_up_to_the_maximum() -> None:
    """A 429 with ``Retry-After: 2`` waits 2 s; ``Retry-After: 60`` waits the 4 s maximum."""
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(503, headers={"Retry-After": "60"}),
            httpx.Response(204),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    sleeps: list[float] = []
    with httpx.Client(transport=transport) as client:
        _channel("http://127.0.0.1:9/x", client, sleeps=sleeps).send(_notification())
    assert sleeps == [2.0, 4.0]


def test_an_unreachable_receiver_is_retryable(http: httpx.Client) -> None:
    """Connection refused on every attempt: RetryableError with the transport error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RetryableError, match="ConnectError"):
        _channel(f"http://127.0.0.1:{port}/hook", http, attempts=2).send(_notification())


def test_urls_are_redacted_in_errors(receiver: WebhookReceiver, http: httpx.Client) -> None:
    """Webhook URLs carry tokens: errors and logs show scheme, host and port only."""
    receiver.always_fail("/T000/B000/s3cr3t-token?key=abc", status=500)
    with capture_logs() as logs, pytest.raises(RetryableError) as caught:
        _channel(receiver.url("/T000/B000/s3cr3t-token?key=abc"), http, attempts=1).send(_notification())
    assert "s3cr3t" not in str(caught.value) and "abc" not in str(caught.value)
    assert "s3cr3t" not in json.dumps(logs)
    assert redacted("https://hooks.slack.com/services/T0/B0/xyz") == "https://hooks.slack.com/…"


def test_each_attempt_is_signed_afresh() -> None:
    """A retry carries a new timestamp and the matching signature."""
    seen: list[httpx.Request] = []
    answers = iter([500, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers))

    clock = iter([1000.0, 1007.0])
    channel = WebhookChannel(
        target=WebhookTarget(name="ops", url="http://hooks.example/x", secret=SECRET),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=lambda: next(clock),
        sleep=lambda _s: None,
        resolve=lambda host, port: ["93.184.215.14"],
    )
    channel.send(_notification())
    stamps = [r.headers["x-tributary-timestamp"] for r in seen]
    assert stamps == ["1000", "1007"]
    for request in seen:
        stamp = request.headers["x-tributary-timestamp"]
        mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.content, hashlib.sha256).hexdigest()
        assert request.headers["x-tributary-signature"] == f"sha256={mac}"


def _guarded(
    url: str, resolved: list[str], seen: list[httpx.Request], *, allow_private: bool = False
) -> WebhookChannel:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    return WebhookChannel(
        target=WebhookTarget(name="ops", url=url, secret=SECRET, allow_private=allow_private),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=lambda _s: None,
        resolve=lambda host, port: resolved,
    )


@pytest.mark.parametrize(
    ("url", "resolved", "allow_private"),
    [
        ("http://169.254.169.254/latest/meta-data/", [], True),
        ("http://[fd00:ec2::254]/latest/", [], True),
        ("http://[::ffff:169.254.169.254]/", [], True),
        ("https://hooks.example/x", ["169.254.169.254"], True),
        ("https://hooks.example/x", ["93.184.215.14", "10.0.0.5"], False),
        ("http://127.0.0.1:8080/x", [], False),
        ("http://internal.corp/x", ["192.168.1.20"], False),
        ("http://hooks.example/x", ["0.0.0.0"], True),  # noqa: S104 (an address to refuse)
    ],
    ids=[
        "metadata",
        "metadata-v6",
        "mapped-v4",
        "resolves-to-metadata",
        "one-private",
        "loopback",
        "private",
        "unspecified",
    ],
)
def test_forbidden_addresses_are_refused_before_any_request(
    url: str, resolved: list[str], allow_private: bool
) -> None:
    """Link-local and metadata addresses always, private and loopback without allow_private: a permanent
    error naming the reason, and no request made."""
    seen: list[httpx.Request] = []
    with pytest.raises(PermanentError, match="refused"):
        _guarded(url, resolved, seen, allow_private=allow_private).send(_notification())
    assert seen == []


def test_the_request_goes_to_the_checked_address_with_the_original_host() -> None:
    """No second lookup: the URL's host is replaced by the address checked, Host and SNI keep the name."""
    seen: list[httpx.Request] = []
    _guarded("https://hooks.example:8443/a?token=t", ["93.184.215.14"], seen).send(_notification())
    [request] = seen
    assert request.url.host == "93.184.215.14" and request.url.port == 8443
    assert request.url.path == "/a" and request.url.query == b"token=t"
    assert request.headers["host"] == "hooks.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.example"


def test_a_private_receiver_is_allowed_when_the_webhook_says_so() -> None:
    seen: list[httpx.Request] = []
    _guarded("http://receiver.local/x", ["10.1.2.3"], seen, allow_private=True).send(_notification())
    assert [r.url.host for r in seen] == ["10.1.2.3"]


def test_a_failed_lookup_is_retryable() -> None:
    """DNS down is not the event's fault."""

    def fail(host: str, port: int) -> list[str]:
        raise socket.gaierror("temporary failure")

    channel = WebhookChannel(
        target=WebhookTarget(name="ops", url="https://hooks.example/x", secret=SECRET),
        client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))),
        resolve=fail,
    )
    with pytest.raises(RetryableError, match=r"cannot resolve hooks\.example"):
        channel.send(_notification())
