"""Reading DLQ letters and selecting them by filter and time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.failure import FAILURE_ATTRIBUTE, Failure
from shared.testkit.envelopes import envelope, rule_body
from tributary.operators.letters import Letter, Selector, letter_from_message, parse_filter, parse_when


def message(
    body: str, attrs: dict[str, str] | None = None, *, sent_ms: int = 1_795_000_000_000
) -> dict[str, Any]:
    return {
        "MessageId": "m-1",
        "ReceiptHandle": "rh-1",
        "Body": body,
        "Attributes": {"SentTimestamp": str(sent_ms), "ApproximateReceiveCount": "2"},
        "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in (attrs or {}).items()},
    }


def runtime_letter(type_: str = "sensor.reading", **reason: str) -> Letter:
    fields: dict[str, Any] = {
        "reason": "retries_exhausted",
        "error_type": "RetryableError",
        "error_message": "S3 put failed: SlowDown",
        "service": "archiver",
        "attempts": 5,
        "first_failure_at": "2026-11-20T10:00:00.000+00:00",
    } | reason
    attrs = {FAILURE_ATTRIBUTE: Failure(**fields).encode()}
    return letter_from_message(message(rule_body(envelope(type_)), attrs))


def test_a_runtime_letter_reads_its_failure_record() -> None:
    """The one ``tributary.failure`` attribute gives every reason field."""
    letter = runtime_letter(error_message="boom")
    assert letter.reason == {
        "reason": "retries_exhausted",
        "error_type": "RetryableError",
        "error_message": "boom",
        "service": "archiver",
        "attempts": "5",
        "first_failure_at": "2026-11-20T10:00:00.000+00:00",
    }
    assert letter.failed_at == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_a_rule_delivered_letter_reads_envelope_and_reason() -> None:
    """Event id, type, detail-type, source and the reason attributes of a letter from before the record."""
    event = envelope("sensor.reading")
    letter = letter_from_message(
        message(rule_body(event), {"tributary.reason": "permanent", "tributary.attempts": "1", "other": "x"})
    )
    assert (letter.event_id, letter.type, letter.version) == (event.id, "sensor.reading", 1)
    assert letter.detail_type == "sensor.reading.v1"
    assert letter.source == event.source
    assert letter.reason == {"reason": "permanent", "attempts": "1"}
    assert letter.receive_count == 2
    assert letter.sent_at == datetime.fromtimestamp(1_795_000_000, UTC)
    assert letter.summary()["body"]["detail"]["id"] == event.id


def test_a_bare_envelope_letter_reads_too() -> None:
    """A body that is the envelope itself (what a redrive may send) gives the same fields."""
    event = envelope("device.registered")
    letter = letter_from_message(message(event.model_dump_json()))
    assert (letter.event_id, letter.detail_type, letter.source) == (
        event.id,
        "device.registered.v1",
        event.source,
    )


def test_a_letter_without_an_envelope_is_still_a_letter() -> None:
    """Not JSON: no event fields, the body kept as text."""
    letter = letter_from_message(message("not json {", {"tributary.error_type": "ContractError"}))
    assert letter.event is None and letter.event_id is None and letter.detail_type is None
    assert letter.summary()["body"] == "not json {"
    assert letter.reason == {"error_type": "ContractError"}


def test_a_poison_letter_nested_100000_deep_is_still_a_letter() -> None:
    """Bodies the runtime refused for their depth or numbers do not crash the operator tools."""
    for body in ["[" * 100_000 + "]" * 100_000, '{"n": ' + "9" * 5000 + "}"]:
        letter = letter_from_message(message(body, {"tributary.error_type": "ContractError"}))
        assert letter.event is None and letter.summary()["body"] == body


def test_an_eventbridge_delivery_failure_reads_as_delivery_failed() -> None:
    """A rule's own DLQ attributes (ERROR_CODE, …) map onto the reason."""
    attrs = {"ERROR_CODE": "SQS_QUEUE_NOT_FOUND", "ERROR_MESSAGE": "gone", "RETRY_ATTEMPTS": "185"}
    letter = letter_from_message(message(rule_body(envelope()), attrs))
    assert letter.reason == {
        "reason": "delivery_failed",
        "error_type": "SQS_QUEUE_NOT_FOUND",
        "error_message": "gone",
        "attempts": "185",
    }


@pytest.mark.parametrize(
    ("spec", "matches"),
    [
        ("type=sensor.reading", True),
        ("type=sensor.reading.v1", True),
        ("type=sensor.*", True),
        ("type=sensor.reading.v2", False),
        ("type=device.registered", False),
        ("type~^sensor", True),
        ("reason=retries_exhausted", True),
        ("reason=permanent", False),
        ("reason~SlowDown", True),
        ("reason~RetryableError", True),
        ("reason~retries_exhausted", False),  # ~ searches the error type and message, not the reason code
        ("reason~(?i)slowdown", True),
        ("error_type=RetryableError", True),
        ("error~Timeout", False),
        ("service=archiver", True),
        ("source=*", True),
    ],
)
def test_filters(spec: str, matches: bool) -> None:
    """= is exact (with globs), ~ searches; each key reads its own field."""
    assert parse_filter(spec).matches(runtime_letter()) is matches


def test_filters_on_one_key_are_alternatives_and_on_different_keys_all_hold() -> None:
    """type=a OR type=b; AND reason~…"""
    reading, device = (
        runtime_letter("sensor.reading"),
        runtime_letter("device.registered", error_message="other"),
    )
    either = Selector.parse(["type=sensor.reading", "type=device.registered"])
    assert either.matches(reading) and either.matches(device)
    both = Selector.parse(["type=sensor.reading", "type=device.registered", "reason~SlowDown"])
    assert both.matches(reading) and not both.matches(device)


def test_since_compares_the_first_failure_then_the_dlq_arrival() -> None:
    """first_failure_at when present; SentTimestamp otherwise."""
    letter = runtime_letter(first_failure_at="2026-11-20T10:00:00+00:00")
    assert Selector(since=datetime(2026, 11, 20, 9, tzinfo=UTC)).matches(letter)
    assert not Selector(since=datetime(2026, 11, 20, 11, tzinfo=UTC)).matches(letter)
    bare = letter_from_message(message(rule_body(envelope()), sent_ms=1_795_000_000_000))
    assert bare.failed_at == datetime.fromtimestamp(1_795_000_000, UTC)


def test_an_empty_selector_takes_everything() -> None:
    """No filters, no since: every letter, even one without an envelope."""
    selector = Selector.parse([], None)
    assert selector.takes_everything
    assert selector.matches(letter_from_message(message("junk")))
    assert selector.describe() == "everything"


@pytest.mark.parametrize("spec", ["type", "colour=red", "reason~(unclosed", "=x"])
def test_bad_filters_say_what_is_wrong(spec: str) -> None:
    """Unknown keys, no operator, a broken regex."""
    with pytest.raises(ValueError, match=r"filter|regex"):
        parse_filter(spec)


def test_parse_when_relative_iso_and_naive() -> None:
    """2h ago, ISO with Z, a date, naive means UTC."""
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_when("2h", now=now) == now - timedelta(hours=2)
    assert parse_when("90s", now=now) == now - timedelta(seconds=90)
    assert parse_when("3d ago", now=now) == now - timedelta(days=3)
    assert parse_when("now", now=now) == now
    assert parse_when("2026-11-20T14:00:00Z") == datetime(2026, 11, 20, 14, tzinfo=UTC)
    assert parse_when("2026-11-20") == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_when("2026-11-20T14:00:00+09:00") == datetime(2026, 11, 20, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a time"):
        parse_when("yesterday-ish")


def test_summary_is_json_serialisable() -> None:
    """peek --json prints summaries as they are."""
    json.dumps(runtime_letter().summary())
