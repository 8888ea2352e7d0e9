"""Tests of reading envelopes out of queue messages."""

from __future__ import annotations

import json

import pytest

from shared.errors import ContractError
from shared.messages import parse_envelope
from shared.testkit.envelopes import envelope, rule_body


def test_rule_delivered_body_yields_its_envelope() -> None:
    """An EventBridge event body gives the envelope in its detail."""
    event = envelope()
    assert parse_envelope(rule_body(event)) == event


def test_bare_envelope_body_is_accepted() -> None:
    """A redriven or replayed bare envelope parses too."""
    event = envelope("trade.completed")
    assert parse_envelope(event.model_dump_json()) == event


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ('{"detail-type": "x.v1", "detail": {"id": "a"}}', "no valid envelope"),
        ("[1, 2]", "no valid envelope"),
    ],
)
def test_garbage_is_a_contract_error_naming_the_problem(body: str, reason: str) -> None:
    """Poison bodies raise ContractError with a reason a reader can act on."""
    with pytest.raises(ContractError, match=reason):
        parse_envelope(body)


@pytest.mark.parametrize(
    "time", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z", "1748737800"]
)
def test_a_time_no_store_holds_is_a_contract_error_naming_the_field(time: str) -> None:
    """An envelope from the bus, a redrive or a replay with such a time fails alone, at ``time``, before any
    handler converts it (year 1 at +01:00 used to raise OverflowError in the handlers and fail the batch)."""
    doc = json.loads(envelope().model_dump_json()) | {"time": time}
    with pytest.raises(ContractError, match=r"time: .*(1970-2099|RFC 3339)"):
        parse_envelope(json.dumps(doc))
