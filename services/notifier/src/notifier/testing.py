"""Supported fakes for the notifier's ports, and a real webhook receiver, for tests (no mocking).

- :class:`InMemoryStateStore`: the fake the state-store contract suite holds the real stores to.
- :class:`InMemoryChannel`: records notifications; can be told to fail.
- :class:`WebhookReceiver`: a threaded HTTP server on 127.0.0.1 that records every request and answers
  as scripted (fail N times, always fail), for channel tests and the e2e suite.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from notifier.model import DEFAULT_RETENTION_S, Alert, Notification, NotificationClaim, NotificationRecord
from notifier.ports import Settled
from shared.errors import StoreUnavailable


@dataclass
class _Held:
    record: NotificationRecord
    lease_until: float
    expires_at: float


class InMemoryStateStore:
    """Dicts under a lock; set ``down`` to make every call fail as an outage would."""

    def __init__(self, *, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self.retention_s = retention_s
        self.notifications: dict[tuple[str, str], _Held] = {}
        self.cooldowns: dict[tuple[str, str], tuple[str, float]] = {}
        self.last_seen: dict[tuple[str, str], tuple[float, float]] = {}
        self.occurrences: dict[tuple[str, str, float], tuple[set[str], float]] = {}
        self.down = False
        self._lock = threading.RLock()

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("state store is down")

    def claim(self, alert: Alert, *, now: float, lease_s: float) -> NotificationClaim:
        with self._lock:
            self._check()
            key = (alert.rule, alert.key)
            held = self.notifications.get(key)
            if held is None:
                record = NotificationRecord(
                    rule=alert.rule,
                    key=alert.key,
                    subject=alert.subject,
                    severity=alert.severity,
                    message=alert.message,
                    channels=alert.channels,
                    status="pending",
                    created_at=now,
                    updated_at=now,
                )
                self.notifications[key] = _Held(record, now + lease_s, now + self.retention_s)
                return NotificationClaim(outcome="fresh", record=record)
            if held.record.final:
                return NotificationClaim(outcome="done", record=held.record)
            if held.lease_until > now:
                return NotificationClaim(outcome="busy", record=held.record)
            held.record = replace(held.record, attempts=held.record.attempts + 1, updated_at=now)
            held.lease_until = now + lease_s
            held.expires_at = now + self.retention_s
            return NotificationClaim(outcome="resumed", record=held.record)

    def extend_lease(self, rule: str, key: str, *, attempt: int, now: float, lease_s: float) -> bool:
        with self._lock:
            self._check()
            held = self.notifications.get((rule, key))
            if held is None or held.record.final or held.record.attempts != attempt or held.lease_until <= 0:
                return False
            held.lease_until = max(held.lease_until, now + lease_s)
            return True

    def release_cooldown(self, rule: str, subject: str, *, holder: str) -> None:
        with self._lock:
            self._check()
            current = self.cooldowns.get((rule, subject))
            if current is not None and current[0] == holder:
                del self.cooldowns[(rule, subject)]

    def hold_cooldown(self, rule: str, subject: str, *, holder: str, now: float, cooldown_s: float) -> bool:
        with self._lock:
            self._check()
            current = self.cooldowns.get((rule, subject))
            if current is None or current[1] <= now:
                self.cooldowns[(rule, subject)] = (holder, now + cooldown_s)
                return True
            return current[0] == holder

    def mark_sent(self, rule: str, key: str, channel: str, *, now: float) -> None:
        with self._lock:
            self._check()
            held = self.notifications[(rule, key)]
            held.record = replace(held.record, sent=held.record.sent | {channel}, updated_at=now)

    def settle(self, rule: str, key: str, *, status: Settled, now: float, error: str | None = None) -> None:
        with self._lock:
            self._check()
            held = self.notifications[(rule, key)]
            held.record = replace(held.record, status=status, error=error, updated_at=now)
            held.lease_until = 0.0

    def record_sightings(self, seen: Mapping[tuple[str, str], float], *, now: float) -> None:
        with self._lock:
            self._check()
            for key, at in seen.items():
                current = self.last_seen.get(key)
                if current is None or at > current[0]:
                    self.last_seen[key] = (at, at + self.retention_s)

    def count_occurrence(self, rule: str, subject: str, *, window: tuple[float, float], event_id: str) -> int:
        with self._lock:
            self._check()
            ids, _ = self.occurrences.setdefault(
                (rule, subject, window[0]), (set(), window[1] + self.retention_s)
            )
            ids.add(event_id)
            return len(ids)

    def silent(self, rule: str, *, before: float, now: float) -> list[tuple[str, float]]:
        with self._lock:
            self._check()
            found = [
                (subject, at)
                for (r, subject), (at, expires) in self.last_seen.items()
                if r == rule and at < before and expires > now
            ]
            return sorted(found, key=lambda item: (item[1], item[0]))

    def recent(self, *, limit: int = 50, now: float | None = None) -> list[NotificationRecord]:
        with self._lock:
            self._check()
            records = [h.record for h in self.notifications.values()]
            return sorted(records, key=lambda r: (r.created_at, r.rule, r.key), reverse=True)[:limit]

    def prune(self, *, now: float) -> int:
        with self._lock:
            self._check()
            gone = [k for k, h in self.notifications.items() if h.expires_at <= now]
            for k in gone:
                del self.notifications[k]
            cool = [k for k, (_, until) in self.cooldowns.items() if until <= now]
            for k in cool:
                del self.cooldowns[k]
            seen = [k for k, (_, expires) in self.last_seen.items() if expires <= now]
            for k in seen:
                del self.last_seen[k]
            counted = [k for k, (_, expires) in self.occurrences.items() if expires <= now]
            for occurrence in counted:
                del self.occurrences[occurrence]
            return len(gone) + len(cool) + len(seen) + len(counted)


class InMemoryChannel:
    """A :class:`~notifier.ports.NotificationChannel` that keeps what it was sent.

    Errors queued in ``fail_with`` are raised by the next sends, one each, before anything is recorded.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self.sent: list[Notification] = []
        self.fail_with: deque[Exception] = deque()
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    def send(self, notification: Notification) -> None:
        self.calls += 1
        if self.fail_with:
            raise self.fail_with.popleft()
        self.sent.append(notification)


@dataclass(frozen=True, kw_only=True)
class Received:
    """One request the receiver got, and the status it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Script:
    failures_left: int = 0
    failure_status: int = 500
    always: int | None = None
    requests: list[Received] = field(default_factory=list)


class WebhookReceiver:
    """A webhook receiver on ``127.0.0.1`` (an ephemeral port); use as a context manager.

    Every path is its own endpoint: ``fail(path, times)`` makes it answer 500 that many times before 200,
    ``always_fail(path)`` makes it answer 500 until ``heal(path)``. :meth:`requests` lists what arrived.
    """

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, _Script] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = receiver._answer(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read :meth:`WebhookReceiver.requests` instead."""

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _script(self, path: str) -> _Script:
        return self._scripts.setdefault(path, _Script())

    def fail(self, path: str, times: int, *, status: int = 500) -> None:
        with self._lock:
            script = self._script(path)
            script.failures_left, script.failure_status = times, status

    def always_fail(self, path: str, *, status: int = 500) -> None:
        with self._lock:
            self._script(path).always = status

    def heal(self, path: str) -> None:
        """Answer 200 again from now on."""
        with self._lock:
            script = self._script(path)
            script.failures_left, script.always = 0, None

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            script = self._script(path)
            if script.always is not None:
                status = script.always
            elif script.failures_left > 0:
                script.failures_left -= 1
                status = script.failure_status
            else:
                status = 200
            lowered = {k.lower(): v for k, v in headers.items()}
            script.requests.append(
                Received(path=path, headers=lowered, body=body, status=status, at=time.time())
            )
            return status

    def requests(self, path: str | None = None) -> list[Received]:
        """What arrived (at ``path``, or anywhere), oldest first."""
        with self._lock:
            if path is not None:
                return list(self._script(path).requests)
            return sorted((r for s in self._scripts.values() for r in s.requests), key=lambda r: r.at)

    def wait_for(
        self, predicate: Callable[[], Any], *, timeout_s: float = 30.0, interval_s: float = 0.1
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy or the time is up; returns its last value."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = predicate()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval_s)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
