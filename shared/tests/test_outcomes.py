"""Tests of deciding each message's fate and the DLQ reason attributes."""

from __future__ import annotations

import random

from shared.errors import ContractError, RetryableError
from shared.failure import Failure
from shared.idempotency import IdConflict
from shared.messages import Message
from shared.outcomes import RetryPolicy, sort_outcomes

_FIRST_MS = 1_700_000_000_000


def _message(receive_count: int = 1) -> Message:
    return Message(
        message_id="m",
        receipt_handle="r",
        body="{}",
        receive_count=receive_count,
        first_received_ms=_FIRST_MS,
        attributes={"origin": "x"},
    )


def test_backoff_grows_exponentially_within_bounds() -> None:
    """Each attempt's delay lies in [ceiling/2, ceiling] and never passes the maximum."""
    policy = RetryPolicy(backoff_base_s=2, backoff_max_s=60)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (10, 60)]:
        delays = {policy.backoff_s(attempt, rng) for _ in range(50)}
        assert min(delays) >= max(1, round(ceiling / 2))
        assert max(delays) <= ceiling


def test_permanent_errors_go_to_the_dlq_at_once_with_their_reason() -> None:
    """A contract failure is dead-lettered on its first attempt, with every reason attribute."""
    outcomes = sort_outcomes([(_message(), ContractError("bad"))], service="svc", policy=RetryPolicy())
    [letter] = outcomes.dead
    assert sorted(letter.attributes) == ["origin", "tributary.failure"]
    assert letter.failure == Failure(
        reason="permanent",
        error_type="ContractError",
        error_message="bad",
        service="svc",
        attempts=1,
        first_failure_at="2023-11-14T22:13:20.000+00:00",
    )


def test_transient_errors_retry_until_the_last_attempt() -> None:
    """Retryable failures back off until max_attempts, then dead-letter as retries_exhausted."""
    policy = RetryPolicy(max_attempts=3)
    early = sort_outcomes([(_message(2), RetryableError("down"))], service="s", policy=policy)
    last = sort_outcomes([(_message(3), RetryableError("down"))], service="s", policy=policy)
    assert len(early.retry) == 1 and not early.dead
    assert not last.retry and last.dead[0].failure == Failure.of(
        RetryableError("down"),
        reason="retries_exhausted",
        service="s",
        attempts=3,
        first_failure_ms=_FIRST_MS,
    )


def test_handled_messages_are_done() -> None:
    """A message without an error is done."""
    outcomes = sort_outcomes([(_message(), None)], service="s", policy=RetryPolicy())
    assert len(outcomes.done) == 1 and not outcomes.retry and not outcomes.dead


def test_a_permanent_error_may_name_a_more_precise_reason() -> None:
    """An id conflict is dead-lettered with reason ``id_conflict`` (the subclass's ``reason``)."""
    outcomes = sort_outcomes([(_message(), IdConflict("id reused"))], service="s", policy=RetryPolicy())
    [letter] = outcomes.dead
    assert (failure := letter.failure)
    assert (failure.reason, failure.error_type) == ("id_conflict", "IdConflict")
