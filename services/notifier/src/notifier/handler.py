"""The notifier's batch handler: evaluate the rules, then deliver each alert once per channel.

Per alert (see docs/notifier.md, "Once-only delivery"):

1. **Claim** ``(rule, key)`` in the state store (a conditional put). ``done``: a redelivered or redriven
   event, nothing is sent. ``busy``: another worker is sending it right now; retry later.
2. **Cooldown**: unless some channel already has it, the alert must hold its subject's cooldown; if
   another alert of the same rule and subject holds it, this one is recorded as ``suppressed``. Only a
   delivered alert keeps the cooldown: one that reached no channel releases it when it settles ``failed``,
   so the alerts after it are sent, not suppressed.
3. **Send** to each channel not yet marked sent, marking each right after it succeeds. The intent (the
   claim) is recorded before sending and each channel is marked after, so a crash in between can resend
   to that one channel, with the same delivery id, and never to a channel already marked.
   While sending, a :class:`~notifier.lease.LeaseKeeper` extends the claim's lease every third of it, so a
   slow channel cannot outlast the lease and let another replica send the alert again.
4. **Settle**: ``sent`` when every channel has it. Otherwise ``failed`` (the lease is released) and the
   event fails with the channels' reasons: the runtime retries it with backoff, then dead-letters it.

Rate rules count each event they match in its window (one store write per event and rule); the window
that reaches the rule's count raises one alert, keyed by the window, through the same steps.

Absence rules learn from the same batch: each event they match is a sighting of its subject, written to
the store at most every ``after / 20`` per subject so a busy device costs few writes. Events timed more
than ``future_tolerance_s`` ahead of now are no sightings (they would pin the subject's last-seen time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import structlog

from contracts import Envelope
from notifier.domain import evaluate, iso, rate_alert, rate_hits, sightings
from notifier.lease import LeaseKeeper
from notifier.model import Alert, Notification
from notifier.ports import NotificationChannel, NotificationStateStore
from notifier.rules.ruleset import RuleSet
from shared.errors import PermanentError, RetryableError, TributaryError

log = structlog.get_logger()

DEFAULT_FUTURE_TOLERANCE_S = 900.0
"""How far ahead of now an event may be timed and still be a sighting: the 15 minutes Timestream also
allows, room for producers' clock skew."""


class DeliveryError(RetryableError):
    """Some channels failed, all of them in a way that may recover."""


class Notifier:
    """A :class:`~shared.ports.BatchHandler` raising and delivering the alerts of a rule set."""

    def __init__(
        self,
        *,
        rules: RuleSet,
        store: NotificationStateStore,
        channels: Mapping[str, NotificationChannel],
        lease_s: float,
        heartbeat_s: float | None = None,
        future_tolerance_s: float = DEFAULT_FUTURE_TOLERANCE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``heartbeat_s``: how often a claim's lease is extended while its alert is sent (default: a third
        of ``lease_s``); ``future_tolerance_s``: how far ahead of now an event may be timed and still count
        as a sighting for absence rules."""
        missing = sorted(rules.channels - set(channels))
        if missing:
            raise ValueError(f"no channel built for {', '.join(missing)}")
        self.rules = rules
        self._store = store
        self._channels = dict(channels)
        self._lease_s = lease_s
        self._heartbeat_s = heartbeat_s if heartbeat_s is not None else lease_s / 3
        self._future_tolerance_s = future_tolerance_s
        self._clock = clock
        self._granularity = {r.name: r.after_s / 20 for r in rules.absence_rules}
        self._written: dict[tuple[str, str], float] = {}

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self._record_sightings(events)
        failures: dict[str, Exception] = {}
        down: dict[str, Exception] = {}
        for event in events:
            try:
                alerts = evaluate(event, self.rules.event_rules) + self._rate_alerts(event)
            except RetryableError as exc:  # the state store is down: the event is retried
                failures[event.id] = exc
                continue
            if not alerts:
                continue
            with structlog.contextvars.bound_contextvars(event_id=event.id, type=event.type):
                errors: list[TributaryError] = []
                for alert in alerts:
                    try:
                        self.deliver(alert, down=down)
                    except (RetryableError, PermanentError) as exc:
                        errors.append(exc)
                if errors:
                    failures[event.id] = _combine(errors)
        return failures

    def _rate_alerts(self, event: Envelope) -> list[Alert]:
        """Count ``event`` in the windows of the rate rules it matches; the alerts of full windows."""
        alerts = []
        for hit in rate_hits(event, self.rules.rate_rules):
            count = self._store.count_occurrence(
                hit.rule.name, hit.subject, window=hit.window, event_id=event.id
            )
            alert = rate_alert(hit, count)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def deliver(
        self, alert: Alert, *, down: dict[str, Exception] | None = None, give_up_after: int | None = None
    ) -> str:
        """Notify ``alert`` once to each of its channels; returns what happened (for logs and tests).

        Args:
            alert: the alert.
            down: channels that already failed in this batch; they fail again at once instead of waiting
                through their retries for every alert. Updated with new failures.
            give_up_after: attempts after which an unfinished alert is abandoned (timer alerts, which
                have no DLQ to go to); ``None``: never (the runtime's DLQ ends event alerts).

        Returns:
            ``sent``, ``duplicate`` (finished before), ``suppressed`` (cooldown) or ``abandoned``.

        Raises:
            RetryableError: the store is down, another worker holds the alert, or a channel may recover.
            PermanentError: every failing channel refused the notification for good.
        """
        down = {} if down is None else down
        now = self._clock()
        claim = self._store.claim(alert, now=now, lease_s=self._lease_s)
        fields = {"rule": alert.rule, "subject": alert.subject, "key": alert.key}
        if claim.outcome == "done":
            log.info("alert_duplicate", status=claim.record.status, **fields)
            return "duplicate"
        if claim.outcome == "busy":
            raise RetryableError(f"alert {alert.rule}/{alert.key} is being notified by another worker")
        record = claim.record
        if give_up_after is not None and record.attempts > give_up_after:
            self._store.settle(alert.rule, alert.key, status="abandoned", now=now, error=record.error)
            log.error("alert_abandoned", attempts=record.attempts - 1, error=record.error, **fields)
            return "abandoned"
        keeper = LeaseKeeper(
            self._store,
            rule=alert.rule,
            key=alert.key,
            attempt=record.attempts,
            lease_s=self._lease_s,
            every_s=self._heartbeat_s,
            clock=self._clock,
        )
        try:
            with keeper:
                if not record.sent and alert.cooldown_s > 0:
                    held = self._store.hold_cooldown(
                        alert.rule, alert.subject, holder=alert.key, now=now, cooldown_s=alert.cooldown_s
                    )
                    if not held:
                        self._store.settle(alert.rule, alert.key, status="suppressed", now=self._clock())
                        log.info("alert_suppressed", reason="cooldown", **fields)
                        return "suppressed"
                errors = self._send(alert, record.sent, down, raised_at=iso(record.created_at))
        except BaseException:
            self._release(alert, "interrupted")
            raise
        if errors:
            reason = "; ".join(f"{name}: {error}" for name, error in errors.items())
            self._store.settle(alert.rule, alert.key, status="failed", now=self._clock(), error=reason[:2000])
            delivered = record.sent | (set(alert.channels) - set(errors))
            if alert.cooldown_s > 0 and not delivered:
                self._release_cooldown(alert)  # it notified no one: it must not silence the next alert
            raise _combine(list(errors.values()))
        self._store.settle(alert.rule, alert.key, status="sent", now=self._clock())
        log.info(
            "alert_sent",
            severity=alert.severity,
            channels=list(alert.channels),
            attempt=record.attempts,
            **fields,
        )
        return "sent"

    def _send(
        self, alert: Alert, already: frozenset[str], down: dict[str, Exception], *, raised_at: str
    ) -> dict[str, TributaryError]:
        errors: dict[str, TributaryError] = {}
        for name in alert.channels:
            if name in already:
                continue
            if name in down:
                errors[name] = RetryableError(f"{name} failed earlier in this batch: {down[name]}")
                continue
            try:
                self._channels[name].send(Notification(alert=alert, channel=name, raised_at=raised_at))
            except (RetryableError, PermanentError) as exc:
                errors[name] = exc
                if isinstance(exc, RetryableError):
                    down[name] = exc
                log.warning("channel_failed", channel=name, rule=alert.rule, error=str(exc)[:300])
                continue
            self._store.mark_sent(alert.rule, alert.key, name, now=self._clock())
        return errors

    def _release(self, alert: Alert, reason: str) -> None:
        """Best effort: let the next delivery resume at once rather than wait out the lease."""
        try:
            self._store.settle(alert.rule, alert.key, status="failed", now=self._clock(), error=reason)
        except RetryableError as exc:
            log.warning("release_failed", rule=alert.rule, key=alert.key, error=str(exc))

    def _release_cooldown(self, alert: Alert) -> None:
        """Best effort: if the store fails, the cooldown runs out on its own, as before."""
        try:
            self._store.release_cooldown(alert.rule, alert.subject, holder=alert.key)
        except RetryableError as exc:
            log.warning("cooldown_release_failed", rule=alert.rule, key=alert.key, error=str(exc)[:300])

    def _record_sightings(self, events: Sequence[Envelope]) -> None:
        seen = sightings(events, self.rules.absence_rules, not_after=self._clock() + self._future_tolerance_s)
        due = {
            key: at
            for key, at in seen.items()
            if at - self._written.get(key, float("-inf")) >= self._granularity[key[0]]
        }
        if not due:
            return
        self._store.record_sightings(due, now=self._clock())
        self._written.update(due)
        if len(self._written) > 100_000:  # a bound on memory; forgetting only costs a write
            self._written.clear()


def _combine(errors: Sequence[Exception]) -> TributaryError:
    """One error for an event: retryable if any part may recover, else permanent."""
    if len(errors) == 1 and isinstance(errors[0], TributaryError):
        return errors[0]
    text = "; ".join(str(e) for e in errors)
    if any(isinstance(e, RetryableError) for e in errors):
        return DeliveryError(text)
    return PermanentError(text)
