"""The typed alert rules the notifier evaluates, as loaded and validated from the rules file.

Three kinds of rule:

- :class:`EventRule`: an event of the matched type and version that satisfies every condition raises one
  alert (once per event id, then quiet for ``cooldown_s`` per subject).
- :class:`RateRule`: events that match it are counted per subject in fixed windows of ``within_s``
  (aligned to the epoch, by event time, like a CloudWatch alarm period); the window in which a subject
  reaches ``count`` distinct events raises one alert.
- :class:`AbsenceRule`: events that match it are *sightings* of their subject; a subject not seen for
  ``after_s`` raises one alert per silence, found by the timer (:mod:`notifier.absence`).

Conditions compare the values a path reaches with a constant; a path with ``[*]`` holds when any value
does. A condition on a path that reaches nothing holds only for ``exists: false``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from notifier.rules.paths import FieldPath, Template

Op = Literal["eq", "ne", "gt", "ge", "lt", "le", "in", "exists"]
OPS: tuple[Op, ...] = ("eq", "ne", "gt", "ge", "lt", "le", "in", "exists")
ORDERING: frozenset[Op] = frozenset({"gt", "ge", "lt", "le"})
Severity = Literal["info", "warning", "critical"]
RULE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
CHANNEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SNS = "sns"
LOG = "log"
BUILTIN_CHANNELS = (SNS, LOG)

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$")


def parse_duration(value: Any) -> float:
    """Seconds from a number of seconds or text like ``90s``, ``10m``, ``1h30m``.

    Raises:
        ValueError: for anything else, negative or not finite.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip() and (match := _DURATION.fullmatch(value)):
        if not any(match.groups()):
            raise ValueError(f"{value!r} is not a duration (use e.g. 90s, 10m, 1h30m)")
        h, m, s = (float(g) if g else 0.0 for g in match.groups())
        seconds = h * 3600 + m * 60 + s
    else:
        raise ValueError(f"{value!r} is not a duration (use e.g. 90s, 10m, 1h30m, or seconds)")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{value!r} is not a duration of zero or more seconds")
    return seconds


@dataclass(frozen=True)
class Condition:
    """``path <op> value``; ``value`` is a number, text, bool, a list (``in``) or a bool (``exists``)."""

    path: FieldPath
    op: Op
    value: Any

    def holds(self, document: dict[str, Any]) -> bool:
        values = self.path.values(document)
        if self.op == "exists":
            present = any(v is not None for v in values)
            return present is bool(self.value)
        return any(_compare(self.op, v, self.value) for v in values)


@dataclass(frozen=True)
class AnyOf:
    """Holds when at least one of its conditions does."""

    conditions: tuple[Condition | AnyOf, ...]

    def holds(self, document: dict[str, Any]) -> bool:
        return any(c.holds(document) for c in self.conditions)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def _compare(op: Op, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op == "in":
        return any(_equal(actual, e) for e in expected)
    if not (_is_number(actual) and _is_number(expected)):
        return False  # ordering is defined on numbers only: "10" > 9 is no match, not an error
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "lt":
        return bool(actual < expected)
    return bool(actual <= expected)


@dataclass(frozen=True)
class Match:
    """Which events a rule looks at: one type, some versions."""

    type: str
    versions: tuple[int, ...]

    def matches(self, type_: str, version: int) -> bool:
        return type_ == self.type and version in self.versions


@dataclass(frozen=True, kw_only=True)
class _RuleBase:
    """What every kind of rule has: which events, under which conditions, about what, said how, to whom."""

    name: str
    match: Match
    when: tuple[Condition | AnyOf, ...] = ()
    subject: Template
    severity: Severity
    message: Template
    cooldown_s: float
    channels: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class EventRule(_RuleBase):
    """An alert for each matching event."""

    kind: Literal["event"] = field(default="event", init=False)


@dataclass(frozen=True, kw_only=True)
class AbsenceRule(_RuleBase):
    """An alert when a subject, once seen, has not been seen for ``after_s``.

    Its ``message`` may use ``{subject}``, ``{last_seen}`` (ISO time), ``{silent_for}`` (``12m``) and
    ``{rule}``: there is no event to take fields from.
    """

    after_s: float
    kind: Literal["absence"] = field(default="absence", init=False)


@dataclass(frozen=True, kw_only=True)
class RateRule(_RuleBase):
    """An alert when a subject has ``count`` matching events within one window of ``within_s``.

    Windows are fixed, aligned to the epoch and placed by each event's ``time``, so the alert does not
    depend on the order events arrive in, and a redriven or replayed event counts once in its own window.
    Its ``subject`` and ``message`` may use the event's fields (of the event that completed the count) and
    ``{rate.count}``, ``{rate.within}`` (``10m``) and ``{rate.window_start}`` (ISO time).
    """

    count: int
    within_s: float
    kind: Literal["rate"] = field(default="rate", init=False)

    def window_start(self, at: float) -> float:
        """The start (epoch seconds) of the window holding the time ``at``."""
        return math.floor(at / self.within_s) * self.within_s


Rule = EventRule | RateRule | AbsenceRule
ABSENCE_FIELDS = ("subject", "last_seen", "silent_for", "rule")
RATE_FIELDS = ("rate.count", "rate.within", "rate.window_start")


@dataclass(frozen=True, kw_only=True)
class WebhookTarget:
    """Where a webhook channel posts, the secret it signs with, and whether it may post to loopback and
    private addresses (see :mod:`notifier.egress`)."""

    name: str
    url: str
    secret: str = field(repr=False)
    allow_private: bool = False


@dataclass(frozen=True, kw_only=True)
class RuleSet:
    """Every rule of a rules file and the webhook targets it defines."""

    rules: tuple[Rule, ...]
    webhooks: dict[str, WebhookTarget] = field(default_factory=dict)
    source: str = "<rules>"

    @property
    def event_rules(self) -> tuple[EventRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, EventRule))

    @property
    def rate_rules(self) -> tuple[RateRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, RateRule))

    @property
    def absence_rules(self) -> tuple[AbsenceRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, AbsenceRule))

    @property
    def channels(self) -> set[str]:
        """Every channel some rule delivers to."""
        return {c for r in self.rules for c in r.channels}

    def by_name(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)
