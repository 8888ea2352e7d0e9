"""A dead letter as an operator sees it, and choosing letters by filter and time.

A DLQ message holds what its queue held (an EventBridge event around the envelope, or a bare envelope) plus
the failure record the runtime attached (``reason``, ``error_type``, ``error_message``, ``service``,
``attempts``, ``first_failure_at``), read through :mod:`shared.failure`, its only owner (which also reads
the six ``tributary.*`` attributes of letters written before the record). Messages a rule could not deliver
carry EventBridge's attributes instead (``ERROR_CODE``, ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS``); those are
read as reason ``delivery_failed``. A body that is not JSON still makes a letter, with no event fields, so
nothing in a DLQ is invisible to the tools.

Filters (``--filter``) are ``key=value`` (exact, ``*`` globs allowed) or ``key~regex`` (search). Filters on
the same key are alternatives (OR); filters on different keys must all hold (AND).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.boundedjson import loads
from shared.errors import ContractError
from shared.failure import read_failure


@dataclass(frozen=True, kw_only=True)
class Letter:
    """One received DLQ message, decoded.

    ``receipt_handle`` is valid for this receive only; ``message_id`` is stable while the message stays in
    its queue (a redrive gives it a new one, so it is never used as an event key).
    """

    message_id: str
    receipt_handle: str
    body: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """The raw ``MessageAttributes`` (kept as received, to send on unchanged)."""
    sent_at: datetime | None = None
    receive_count: int = 0
    event: Mapping[str, Any] | None = None
    """The envelope (``detail`` of an EventBridge body, or the bare envelope); ``None`` if there is none."""
    detail_type: str | None = None
    source: str | None = None
    reason: Mapping[str, str] = field(default_factory=dict)
    """``{reason, error_type, error_message, service, attempts, first_failure_at}``, those present."""

    @property
    def event_id(self) -> str | None:
        value = self.event.get("id") if self.event else None
        return value if isinstance(value, str) else None

    @property
    def type(self) -> str | None:
        value = self.event.get("type") if self.event else None
        return value if isinstance(value, str) else None

    @property
    def version(self) -> int | None:
        value = self.event.get("version") if self.event else None
        return value if isinstance(value, int) else None

    @property
    def failed_at(self) -> datetime | None:
        """When it first failed (the record's ``first_failure_at``), else when it reached the DLQ."""
        return _parse_iso(self.reason.get("first_failure_at")) or self.sent_at

    def summary(self) -> dict[str, Any]:
        """What ``dlq peek --json`` prints for one letter."""
        try:
            body: Any = loads(self.body)
        except ContractError:  # not JSON, or poison (100,000 levels deep): shown as text
            body = self.body
        return {
            "message_id": self.message_id,
            "event_id": self.event_id,
            "type": self.type,
            "version": self.version,
            "detail_type": self.detail_type,
            "source": self.source,
            "attempts": self.reason.get("attempts"),
            "reason": dict(self.reason),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "receive_count": self.receive_count,
            "body": body,
        }


def _parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _string_attributes(raw: Mapping[str, Any]) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in raw.items() if isinstance(v, Mapping) and "StringValue" in v}


def _reason(attrs: Mapping[str, str]) -> dict[str, str]:
    failure = read_failure(attrs)
    if failure is not None:
        return {k: v for k, v in failure.fields().items() if v and not (k == "attempts" and v == "0")}
    if "ERROR_CODE" not in attrs:
        return {}
    delivery = {
        "reason": "delivery_failed",
        "error_type": attrs.get("ERROR_CODE", ""),
        "error_message": attrs.get("ERROR_MESSAGE", ""),
        "attempts": attrs.get("RETRY_ATTEMPTS", ""),
    }
    return {k: v for k, v in delivery.items() if v}


def letter_from_message(raw: Mapping[str, Any]) -> Letter:
    """Decode a message as ``ReceiveMessage`` returns it (with ``MessageAttributeNames=["All"]``)."""
    body = str(raw.get("Body", ""))
    system = raw.get("Attributes", {})
    attributes = dict(raw.get("MessageAttributes", {}))
    sent_ms = system.get("SentTimestamp")
    event: Mapping[str, Any] | None = None
    detail_type = source = None
    try:
        doc = loads(body)
    except ContractError:  # not JSON, or past the parser's limits: a letter without event fields
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("detail"), dict) and "detail-type" in doc:
        event, detail_type, source = doc["detail"], str(doc["detail-type"]), str(doc.get("source", ""))
    elif isinstance(doc, dict) and "id" in doc and "type" in doc:
        event = doc
    if event is not None and detail_type is None:
        type_, version = event.get("type"), event.get("version")
        detail_type = f"{type_}.v{version}" if type_ and version else None
        source = str(event.get("source", "")) or None
    return Letter(
        message_id=str(raw["MessageId"]),
        receipt_handle=str(raw["ReceiptHandle"]),
        body=body,
        attributes=attributes,
        sent_at=datetime.fromtimestamp(int(sent_ms) / 1000, UTC) if sent_ms else None,
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
        event=event,
        detail_type=detail_type,
        source=source,
        reason=_reason(_string_attributes(attributes)),
    )


# -- selection ----------------------------------------------------------------------------------------------


def _type_values(letter: Letter) -> list[str]:
    return [v for v in (letter.type, letter.detail_type) if v]


def _reason_text(letter: Letter) -> list[str]:
    return [letter.reason.get("error_type", ""), letter.reason.get("error_message", "")]


Getter = Callable[[Letter], list[str]]


def _same(get: Getter) -> tuple[Getter, Getter]:
    return get, get


def _reason_attr(key: str) -> Getter:
    return lambda letter: [letter.reason.get(key, "")]


# key -> (values compared by `=`, values searched by `~`)
FILTER_KEYS: dict[str, tuple[Getter, Getter]] = {
    "type": _same(_type_values),
    "reason": (_reason_attr("reason"), _reason_text),
    "error_type": _same(_reason_attr("error_type")),
    "error": _same(_reason_attr("error_message")),
    "service": _same(_reason_attr("service")),
    "id": _same(lambda letter: [letter.event_id or ""]),
    "source": _same(lambda letter: [letter.source or ""]),
}
FILTER_HELP = (
    "type=sensor.reading | type=sensor.reading.v1 | reason=permanent | reason~Timeout (regex on error "
    "type and message) | error_type=… | error~… | service=… | id=… | source=…"
)


@dataclass(frozen=True)
class Filter:
    """One ``key=value`` or ``key~regex`` filter."""

    key: str
    op: str
    value: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, letter: Letter) -> bool:
        exact, searched = FILTER_KEYS[self.key]
        if self.pattern is not None:
            return any(self.pattern.search(v) for v in searched(letter) if v)
        return any(fnmatch.fnmatchcase(v, self.value) for v in exact(letter))


def parse_filter(text: str) -> Filter:
    """``"type=sensor.reading"`` or ``"reason~timeout"`` as a :class:`Filter`.

    Raises:
        ValueError: no ``=``/``~``, an unknown key, or a regex that does not compile.
    """
    match = re.fullmatch(r"\s*([a-z_]+)\s*([=~])(.*)", text, flags=re.DOTALL)
    if not match:
        raise ValueError(f"not a filter: {text!r} (key=value or key~regex; {FILTER_HELP})")
    key, op, value = match.groups()
    if key not in FILTER_KEYS:
        raise ValueError(f"unknown filter key {key!r} (known: {', '.join(FILTER_KEYS)})")
    if op == "=":
        return Filter(key, op, value)
    try:
        return Filter(key, op, value, re.compile(value))
    except re.error as exc:
        raise ValueError(f"bad regex in {text!r}: {exc}") from exc


@dataclass(frozen=True, kw_only=True)
class Selector:
    """Which letters an operation takes: all its filters (OR within a key, AND across) and a time floor."""

    filters: tuple[Filter, ...] = ()
    since: datetime | None = None

    @classmethod
    def parse(cls, filters: Iterable[str] = (), since: str | None = None) -> Selector:
        """From the command line's ``--filter`` and ``--since`` values; raises ``ValueError`` on bad input."""
        return cls(
            filters=tuple(parse_filter(f) for f in filters), since=parse_when(since) if since else None
        )

    @property
    def takes_everything(self) -> bool:
        return not self.filters and self.since is None

    def matches(self, letter: Letter) -> bool:
        if self.since is not None:
            failed_at = letter.failed_at
            if failed_at is None or failed_at < self.since:
                return False
        by_key: dict[str, list[Filter]] = {}
        for f in self.filters:
            by_key.setdefault(f.key, []).append(f)
        return all(any(f.matches(letter) for f in group) for group in by_key.values())

    def describe(self) -> str:
        parts = [f"{f.key}{f.op}{f.value}" for f in self.filters]
        if self.since:
            parts.append(f"failed since {self.since.isoformat(timespec='seconds')}")
        return ", ".join(parts) or "everything"


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*(?:ago)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time: ``now``, relative (``90s``, ``30m``, ``2h``, ``3d``, ``1w``: that long ago), or an
    ISO 8601 date or timestamp (naive means UTC). Always timezone-aware.

    Raises:
        ValueError: none of those.
    """
    current = now or datetime.now(UTC)
    if text.strip().lower() == "now":
        return current
    match = _RELATIVE.match(text)
    if match:
        return current - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    parsed = _parse_iso(text.strip().replace("Z", "+00:00") if text.strip().endswith("Z") else text.strip())
    if parsed is None:
        raise ValueError(f"not a time: {text!r} (try 2h, 3d, 2026-11-20 or 2026-11-20T14:00:00Z)")
    return parsed
