"""Tests of the failure record on dead letters: one attribute, SQS's limits kept whatever the original."""

from __future__ import annotations

import json

from shared.errors import ContractError
from shared.failure import (
    FAILURE_ATTRIBUTE,
    MAX_ATTRIBUTES,
    MAX_MESSAGE_BYTES,
    Failure,
    limit_violations,
    read_failure,
)
from shared.messages import Message
from shared.outcomes import dead_letter


def _message(body: str, attributes: dict[str, str]) -> Message:
    return Message(message_id="m-1", receipt_handle="r", body=body, attributes=attributes)


def test_a_message_with_many_attributes_and_a_full_body_still_makes_a_valid_letter() -> None:
    """16 original attributes and a 256 KiB body: at most 10 attributes and 256 KiB on the letter, the
    failure record among them, the body replaced by a summary naming its size and hash."""
    attributes = {f"attr-{i:02}": "v" * 100 for i in range(16)}
    body = "x" * MAX_MESSAGE_BYTES
    error = ContractError("too big")
    letter = dead_letter(_message(body, attributes), error, service="svc", reason="permanent")
    assert not limit_violations(letter.body, letter.attributes)
    assert len(letter.attributes) == MAX_ATTRIBUTES
    assert sorted(letter.attributes)[:3] == ["attr-00", "attr-01", "attr-02"]
    summary = json.loads(letter.body)
    assert summary["bytes"] == MAX_MESSAGE_BYTES and len(summary["sha256"]) == 64
    assert letter.failure and letter.failure.error_message == "too big"


def test_a_body_that_fits_is_kept_as_it_was() -> None:
    """An ordinary body travels unchanged."""
    letter = dead_letter(_message('{"a": 1}', {}), ContractError("no"), service="svc", reason="permanent")
    assert letter.body == '{"a": 1}' and list(letter.attributes) == [FAILURE_ATTRIBUTE]


def test_a_redriven_message_failing_again_keeps_its_first_failure_time() -> None:
    """The earlier record is replaced, its first_failure_at kept; old per-key attributes are dropped."""
    earlier = Failure(
        reason="permanent",
        error_type="X",
        error_message="m",
        service="svc",
        attempts=1,
        first_failure_at="2020-01-01T00:00:00.000+00:00",
    )
    original = {FAILURE_ATTRIBUTE: earlier.encode(), "tributary.reason": "old", "origin": "redrive"}
    letter = dead_letter(_message("{}", original), ContractError("again"), service="svc", reason="permanent")
    assert sorted(letter.attributes) == ["origin", FAILURE_ATTRIBUTE]
    assert letter.failure and letter.failure.first_failure_at == earlier.first_failure_at
    assert letter.failure.error_message == "again"


def test_letters_written_before_the_record_still_read() -> None:
    """The six ``tributary.<key>`` attributes of older letters read as a failure record."""
    failure = read_failure(
        {"tributary.reason": "retries_exhausted", "tributary.attempts": "5", "tributary.service": "archiver"}
    )
    assert failure
    assert (failure.reason, failure.attempts, failure.service) == ("retries_exhausted", 5, "archiver")
    assert read_failure({"other": "x"}) is None
    assert read_failure({FAILURE_ATTRIBUTE: "not json"}) is None


def test_long_error_messages_are_capped() -> None:
    """An error's text is capped, so a chatty exception cannot fill the letter."""
    failure = Failure.of(ValueError("e" * 10_000), reason="permanent", service="s", attempts=1)
    assert len(failure.error_message) == 500
