"""Webhook adapter of :class:`~notifier.ports.NotificationChannel`: a signed HTTP POST, retried with backoff.

The body is the notification's JSON document; the headers sign it (see :mod:`notifier.signing`). 2xx is
success. Connection errors, timeouts, 408, 425, 429 and 5xx are retried up to ``attempts`` times with
exponential backoff and jitter (``Retry-After`` is honoured up to ``max_backoff_s``), then raise
:class:`~shared.errors.RetryableError`, so the runtime retries the event later and finally dead-letters it
with the reason. Any other answer (3xx: redirects are not followed; 4xx) raises
:class:`~shared.errors.PermanentError` at once. Every attempt carries the same delivery id, re-signed with a
fresh timestamp. Errors and logs name the URL's scheme, host and port only: webhook URLs often hold tokens.

Before each notification the host is resolved and every address checked against the webhook's address
policy (:mod:`notifier.egress`: never link-local or metadata addresses, private ones only with
``allow_private``); a refused address is a :class:`~shared.errors.PermanentError`, a failed lookup a
:class:`~shared.errors.RetryableError`. The request then goes to the checked address itself, with the
original ``Host`` header and TLS server name, so DNS cannot be re-pointed between the check and the connect.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import structlog

from notifier.egress import AddressRefused, Resolver, checked_addresses, literal, system_resolver
from notifier.model import Notification
from notifier.rules.ruleset import WebhookTarget
from notifier.signing import signed_headers
from shared.errors import PermanentError, RetryableError

log = structlog.get_logger()

RETRY_STATUSES = frozenset({408, 425, 429})


def redacted(url: str) -> str:
    """``https://host:port/…``: enough to tell which receiver, without the path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


def body_of(notification: Notification) -> bytes:
    """The exact bytes that are posted and signed."""
    return json.dumps(
        notification.document(), separators=(",", ":"), sort_keys=True, ensure_ascii=False
    ).encode()


class WebhookChannel:
    """Posts signed notifications to one target through an injected ``httpx.Client``."""

    def __init__(
        self,
        *,
        target: WebhookTarget,
        client: httpx.Client,
        attempts: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        resolve: Resolver = system_resolver,
    ) -> None:
        self._target = target
        self._client = client
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._resolve = resolve
        self.where = redacted(target.url)

    @property
    def name(self) -> str:
        return self._target.name

    def _pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """The URL with its host replaced by a checked address, the Host header, the TLS server name.

        Raises:
            PermanentError: the host is, or resolves to, an address this webhook may not post to.
            RetryableError: the host cannot be resolved now.
        """
        url = httpx.URL(self._target.url)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            [address, *_] = checked_addresses(
                url.host, port, allow_private=self._target.allow_private, resolve=self._resolve
            )
        except AddressRefused as exc:
            raise PermanentError(f"webhook {self.name}: POST {self.where} refused: {exc}") from exc
        except OSError as exc:
            raise RetryableError(
                f"webhook {self.name}: cannot resolve {url.host}: {type(exc).__name__}"
            ) from exc
        host = {"Host": url.netloc.decode("ascii").rpartition("@")[2]}
        sni = {"sni_hostname": url.host} if url.scheme == "https" and literal(url.host) is None else {}
        return url.copy_with(host=str(address)), host, sni

    def send(self, notification: Notification) -> None:
        body = body_of(notification)
        url, host, sni = self._pinned()
        last = ""
        for attempt in range(1, self._attempts + 1):
            headers = signed_headers(
                self._target.secret, body, timestamp=int(self._clock()), delivery_id=notification.delivery_id
            )
            wait: float | None = None
            try:
                response = self._client.post(url, content=body, headers=headers | host, extensions=sni)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    log.info(
                        "webhook_delivered", channel=self.name, attempt=attempt, status=response.status_code
                    )
                    return
                last = f"answered {response.status_code} {response.reason_phrase}".strip()
                if response.status_code not in RETRY_STATUSES and response.status_code < 500:
                    raise PermanentError(
                        f"webhook {self.name}: POST {self.where} {last}; not retried (fix the receiver or"
                        " the target, then redrive)"
                    )
                wait = _retry_after(response)
            log.warning("webhook_attempt_failed", channel=self.name, attempt=attempt, error=last[:300])
            if attempt < self._attempts:
                self._sleep(self._delay(attempt, wait))
        raise RetryableError(
            f"webhook {self.name}: POST {self.where} failed {self._attempts} times, last: {last}"
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return float(min(self._max_backoff_s, retry_after))
        ceiling = min(self._max_backoff_s, self._backoff_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # absent, or an HTTP date: use the backoff
