"""notifier's ports: the state store it owns and the channels it delivers through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from notifier.model import Alert, Notification, NotificationClaim, NotificationRecord

Settled = Literal["sent", "suppressed", "failed", "abandoned"]


class NotificationStateStore(Protocol):
    """Once-only, cooldown and last-seen state, shared by every replica of the notifier.

    Every write is atomic on its own (a conditional put or a transaction); no method needs another to
    complete for the state to stay consistent. Times are epoch seconds passed in by the caller, so the
    store has no clock. Entries expire ``retention_s`` after their last change (TTL); a redelivery within
    that window is recognised. Failures raise :class:`~shared.errors.RetryableError`.
    """

    def claim(self, alert: Alert, *, now: float, lease_s: float) -> NotificationClaim:
        """Create the notification record of ``(alert.rule, alert.key)`` if there is none (conditional put).

        If one exists and is not final, take it over when no other worker's lease runs (``resumed``);
        otherwise answer ``done`` (final) or ``busy`` (leased). A taken claim holds a lease of ``lease_s``
        and counts one more attempt.
        """
        ...

    def extend_lease(self, rule: str, key: str, *, attempt: int, now: float, lease_s: float) -> bool:
        """Push the lease of ``(rule, key)`` to ``now + lease_s`` while the claim that counted ``attempt``
        still holds it (a conditional write: the attempt count is the claim's fencing token).

        False when that claim is gone: another worker resumed the notification (its attempts moved on), or
        it was settled. Never lowers a lease and never touches a finished notification.
        """
        ...

    def hold_cooldown(self, rule: str, subject: str, *, holder: str, now: float, cooldown_s: float) -> bool:
        """Start the cooldown of ``(rule, subject)`` for ``holder`` unless another holder's is running.

        True when ``holder`` may notify: no cooldown was running (one now runs until ``now + cooldown_s``)
        or ``holder`` already holds it. Idempotent for the same holder.
        """
        ...

    def release_cooldown(self, rule: str, subject: str, *, holder: str) -> None:
        """End the cooldown of ``(rule, subject)`` if ``holder`` holds it (its delivery reached no channel,
        so it notified no one); another holder's cooldown is left alone. Idempotent."""
        ...

    def mark_sent(self, rule: str, key: str, channel: str, *, now: float) -> None:
        """Record that ``channel`` has delivered the notification."""
        ...

    def settle(self, rule: str, key: str, *, status: Settled, now: float, error: str | None = None) -> None:
        """End the current attempt: ``sent``/``suppressed``/``abandoned`` are final; ``failed`` releases the
        lease so the next delivery of the event resumes at once."""
        ...

    def record_sightings(self, seen: Mapping[tuple[str, str], float], *, now: float) -> None:
        """Raise the last-seen time of each ``(rule, subject)``; an older time never lowers a newer one."""
        ...

    def count_occurrence(self, rule: str, subject: str, *, window: tuple[float, float], event_id: str) -> int:
        """Count ``event_id`` in the rate window ``(start, end)`` of ``(rule, subject)``; return its count.

        Idempotent: an event counts once however often it is recorded (a redelivery, a redrive). The
        window's entries expire ``retention_s`` after its end.
        """
        ...

    def silent(self, rule: str, *, before: float, now: float) -> list[tuple[str, float]]:
        """``(subject, last seen)`` of every subject of ``rule`` last seen before ``before``, oldest first."""
        ...

    def recent(self, *, limit: int = 50, now: float | None = None) -> list[NotificationRecord]:
        """The notification log: the latest records, newest first (``now``: where to start looking)."""
        ...

    def prune(self, *, now: float) -> int:
        """Delete expired entries; returns how many (0 where the store expires them itself)."""
        ...


class NotificationChannel(Protocol):
    """Somewhere alerts go: an SNS topic, a webhook, the log.

    ``send`` delivers at least once per call and carries the notification's delivery id every time, so a
    receiver can drop repeats. It may retry internally; when it gives up it raises
    :class:`~shared.errors.RetryableError` (the receiver may recover) or
    :class:`~shared.errors.PermanentError` (the request will never be accepted as it is).
    """

    @property
    def name(self) -> str: ...

    def send(self, notification: Notification) -> None: ...


class SecretUnavailable(Exception):
    """A secret could not be read; the message names the secret and the reason, never a value."""


class SecretReader(Protocol):
    """Reads a webhook's signing secret by ARN (Secrets Manager on AWS).

    Raises :class:`SecretUnavailable` when it cannot.
    """

    def __call__(self, arn: str) -> str: ...
