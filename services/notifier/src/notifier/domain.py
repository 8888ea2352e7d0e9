"""Pure rule evaluation: events and rules in, alerts and sightings out. No I/O, no clock.

- :func:`evaluate`: the alerts an event raises under the event rules.
- :func:`rate_hits` / :func:`rate_alert`: the rate windows an event counts in, and the alert of a window
  whose count (kept by the state store) reached the rule's.
- :func:`sightings`: what an event tells the absence rules (its subject was seen at the event's time).
- :func:`absence_alerts`: the alerts for subjects an absence rule found silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts import Envelope
from notifier.model import Alert, EventRef
from notifier.rules.ruleset import AbsenceRule, EventRule, RateRule, Rule

MAX_SUBJECT = 256
MAX_MESSAGE = 2000


def document(event: Envelope) -> dict[str, Any]:
    """The event as rules see it: the envelope as JSON (times as ISO text), ``data`` included."""
    return event.model_dump(mode="json")


def applies(rule: Rule, event: Envelope, doc: dict[str, Any]) -> bool:
    """Whether ``event`` is of the rule's type and version and satisfies every condition."""
    return rule.match.matches(event.type, event.version) and all(c.holds(doc) for c in rule.when)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evaluate(event: Envelope, rules: Sequence[Rule]) -> list[Alert]:
    """The alerts ``event`` raises, one per event rule it satisfies, in rule order."""
    doc = document(event)
    ref = _ref(event, doc)
    return [
        Alert(
            rule=rule.name,
            key=event.id,
            subject=_clip(rule.subject.render(doc), MAX_SUBJECT),
            severity=rule.severity,
            message=_clip(rule.message.render(doc), MAX_MESSAGE),
            channels=rule.channels,
            cooldown_s=rule.cooldown_s,
            event=ref,
        )
        for rule in rules
        if isinstance(rule, EventRule) and applies(rule, event, doc)
    ]


def _ref(event: Envelope, doc: dict[str, Any]) -> EventRef:
    return EventRef(
        id=event.id, type=event.type, version=event.version, source=event.source, time=doc["time"]
    )


@dataclass(frozen=True)
class RateHit:
    """An event counting in one window of a rate rule, for one subject."""

    rule: RateRule
    subject: str
    window: tuple[float, float]
    event: Envelope
    doc: dict[str, Any]

    @property
    def key(self) -> str:
        """The alert key of the window: one alert per rule, subject and window."""
        return f"rate:{self.subject}:{round(self.window[0] * 1000)}"


def rate_hits(event: Envelope, rules: Sequence[Rule]) -> list[RateHit]:
    """The rate windows ``event`` counts in: one per rate rule it satisfies, placed by the event's time."""
    rate = [r for r in rules if isinstance(r, RateRule) and r.match.matches(event.type, event.version)]
    if not rate:
        return []  # most events: no rate rule looks at their type, so they are never serialised here
    doc = document(event)
    hits = []
    for rule in rate:
        if applies(rule, event, doc):
            start = rule.window_start(event.time.timestamp())
            subject = _clip(rule.subject.render(doc), MAX_SUBJECT)
            hits.append(RateHit(rule, subject, (start, start + rule.within_s), event, doc))
    return hits


def rate_alert(hit: RateHit, count: int) -> Alert | None:
    """The alert of ``hit``'s window once it holds ``count`` events, if that reaches the rule's count."""
    rule = hit.rule
    if count < rule.count:
        return None
    window_start = iso(hit.window[0])
    fields = {
        **hit.doc,
        "rate": {"count": count, "within": humanize(rule.within_s), "window_start": window_start},
    }
    return Alert(
        rule=rule.name,
        key=hit.key,
        subject=hit.subject,
        severity=rule.severity,
        message=_clip(rule.message.render(fields), MAX_MESSAGE),
        channels=rule.channels,
        cooldown_s=rule.cooldown_s,
        event=_ref(hit.event, hit.doc),
        details={"count": count, "within_s": rule.within_s, "window_start": window_start},
    )


def sightings(
    events: Iterable[Envelope], rules: Sequence[Rule], *, not_after: float
) -> dict[tuple[str, str], float]:
    """The latest event time (epoch seconds) per ``(absence rule, subject)`` seen in ``events``.

    Events timed after ``not_after`` (now plus a tolerance for clock skew) are no sightings: a subject's
    last-seen time is only raised, so one event from the far future would pin it there and its absence
    alerts would never fire again.
    """
    latest: dict[tuple[str, str], float] = {}
    absence = [r for r in rules if isinstance(r, AbsenceRule)]
    if not absence:
        return latest
    for event in events:
        at = event.time.timestamp()
        if at > not_after:
            continue
        doc = document(event)
        for rule in absence:
            if applies(rule, event, doc):
                key = (rule.name, _clip(rule.subject.render(doc), MAX_SUBJECT))
                latest[key] = max(at, latest.get(key, at))
    return latest


def absence_alerts(rule: AbsenceRule, silent: Iterable[tuple[str, float]], *, now: float) -> list[Alert]:
    """One alert per subject that ``rule`` found silent, keyed by the silence (subject + last sighting).

    A silence raises one alert however often the timer finds it; the next sighting of the subject ends
    the silence, and a later one is a new alert.
    """
    alerts = []
    for subject, last_seen in silent:
        fields = {
            "subject": subject,
            "last_seen": iso(last_seen),
            "silent_for": humanize(now - last_seen),
            "rule": rule.name,
        }
        alerts.append(
            Alert(
                rule=rule.name,
                key=f"absence:{subject}:{round(last_seen * 1000)}",
                subject=subject,
                severity=rule.severity,
                message=_clip(rule.message.render(fields), MAX_MESSAGE),
                channels=rule.channels,
                cooldown_s=rule.cooldown_s,
                details={"last_seen": fields["last_seen"], "silent_s": round(now - last_seen, 3)},
            )
        )
    return alerts


def iso(epoch_s: float) -> str:
    """An epoch time as ISO 8601 in UTC, to the millisecond."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds")


def humanize(seconds: float) -> str:
    """``45s``, ``12m``, ``1h5m``, ``2d3h``: a duration the way people say it."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d{h}h" if h else f"{d}d"
