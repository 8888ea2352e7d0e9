"""The notifier's values: an alert a rule raised, and the record of notifying it.

An :class:`Alert` is identified by ``(rule, key)``: ``key`` is the event id for event rules and a silence
id (``absence:<subject>:<last seen ms>``) for absence rules. That pair is the once-only key of the state
store and, with a channel name, of the delivery id that receivers dedupe on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from notifier.rules.ruleset import Severity

Status = Literal["pending", "failed", "sent", "suppressed", "abandoned"]
FINAL: frozenset[Status] = frozenset({"sent", "suppressed", "abandoned"})
"""A notification in one of these states is finished: a redelivered event sends nothing more."""

DEFAULT_RETENTION_S = 15 * 24 * 3600
"""How long state is kept: longer than a DLQ keeps a message (14 days), so a late redrive is recognised."""

_DELIVERY_NAMESPACE = uuid.UUID("6f1f7a8e-4c1e-5d1b-9a57-1d2b8f0e7c11")


@dataclass(frozen=True, kw_only=True)
class EventRef:
    """The event an alert came from, as channels show it (no payload)."""

    id: str
    type: str
    version: int
    source: str
    time: str


@dataclass(frozen=True, kw_only=True)
class Alert:
    """What a rule raised: to be notified once to each of ``channels``, unless its subject is cooling down."""

    rule: str
    key: str
    subject: str
    severity: Severity
    message: str
    channels: tuple[str, ...]
    cooldown_s: float
    event: EventRef | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def delivery_id(self, channel: str) -> str:
        """A stable id per (rule, key, channel): every resend carries it, so a receiver can dedupe."""
        return delivery_id(self.rule, self.key, channel)


def delivery_id(rule: str, key: str, channel: str) -> str:
    """A UUID (v5) derived from ``rule``, ``key`` and ``channel``."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{rule}\x1f{key}\x1f{channel}"))


@dataclass(frozen=True, kw_only=True)
class Notification:
    """One alert on its way to one channel."""

    alert: Alert
    channel: str
    raised_at: str

    @property
    def delivery_id(self) -> str:
        return self.alert.delivery_id(self.channel)

    def document(self) -> dict[str, Any]:
        """The JSON document every channel sends (webhook body, SNS message)."""
        alert = self.alert
        doc: dict[str, Any] = {
            "delivery_id": self.delivery_id,
            "rule": alert.rule,
            "severity": alert.severity,
            "subject": alert.subject,
            "message": alert.message,
            "raised_at": self.raised_at,
            "event": vars(alert.event) if alert.event else None,
        }
        if alert.details:
            doc["details"] = alert.details
        return doc


@dataclass(frozen=True, kw_only=True)
class NotificationRecord:
    """The state store's record of one alert: its status, the channels it reached, when."""

    rule: str
    key: str
    subject: str
    severity: str
    message: str
    channels: tuple[str, ...]
    status: Status
    sent: frozenset[str] = frozenset()
    created_at: float
    updated_at: float
    attempts: int = 1
    error: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


ClaimOutcome = Literal["fresh", "resumed", "done", "busy"]


@dataclass(frozen=True, kw_only=True)
class NotificationClaim:
    """The answer to claiming an alert's notification.

    ``fresh``: first time; ``resumed``: an earlier attempt did not finish (``record.sent`` says which
    channels it reached); ``done``: finished before, send nothing; ``busy``: another worker holds it now.
    """

    outcome: ClaimOutcome
    record: NotificationRecord
