"""What happens to each message of a handled batch: delete, back off, or dead-letter with the reason."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from shared.errors import PermanentError, RetryableError, StoreUnavailable
from shared.failure import Failure, fit_body, letter_attributes
from shared.messages import DeadLetter, Message

SQS_MAX_VISIBILITY_S = 43_200


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Bounded retries with exponential visibility backoff and full jitter.

    ``max_attempts`` counts deliveries: on the last one a failing message is dead-lettered.
    """

    max_attempts: int = 5
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0

    def backoff_s(self, attempt: int, rng: random.Random | None = None) -> int:
        """Seconds to hide a message after its ``attempt``-th failure (at least 1)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** min(max(attempt - 1, 0), 32))
        return max(1, round((rng or random).uniform(ceiling / 2, ceiling)))

    def delay_s(self, attempt: int, error: Exception, rng: random.Random | None = None) -> int:
        """Seconds to hide a message after ``error``: the backoff, or longer if the error says when a retry
        can help (:attr:`~shared.errors.RetryableError.retry_after_s`), within SQS's 12 hours."""
        delay = self.backoff_s(attempt, rng)
        after = error.retry_after_s if isinstance(error, RetryableError) else None
        if after is not None:
            delay = max(delay, math.ceil(after))
        return min(delay, SQS_MAX_VISIBILITY_S)


@dataclass(kw_only=True)
class Outcomes:
    """The sorted fate of a batch's messages.

    ``unavailable``: messages whose store was out (:class:`~shared.errors.StoreUnavailable`). The processor
    leaves them unsettled, their attempts unspent; the caller holds them (the worker) or hands them back
    (Lambda). They are never dead-lettered for it.
    """

    done: list[Message] = field(default_factory=list)
    retry: list[tuple[Message, Exception]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    unavailable: list[tuple[Message, Exception]] = field(default_factory=list)


def sort_outcomes(
    failures: list[tuple[Message, Exception | None]], *, service: str, policy: RetryPolicy
) -> Outcomes:
    """Decide each message's fate from its failure (``None``: handled)."""
    outcomes = Outcomes()
    for message, error in failures:
        if error is None:
            outcomes.done.append(message)
        elif isinstance(error, StoreUnavailable):
            outcomes.unavailable.append((message, error))
        elif isinstance(error, PermanentError):
            outcomes.dead.append(dead_letter(message, error, service=service, reason=error.reason))
        elif message.receive_count >= policy.max_attempts:
            outcomes.dead.append(dead_letter(message, error, service=service, reason="retries_exhausted"))
        else:
            outcomes.retry.append((message, error))
    return outcomes


def dead_letter(message: Message, error: Exception, *, service: str, reason: str) -> DeadLetter:
    """A DLQ entry carrying why the message failed, how often, and since when, within SQS's limits."""
    failure = Failure.of(
        error,
        reason=reason,
        service=service,
        attempts=message.receive_count,
        first_failure_ms=message.first_received_ms,
    )
    attributes = letter_attributes(message.attributes, failure)
    body = fit_body(message.body, attributes, message_id=message.message_id)
    return DeadLetter(message=message, body=body, attributes=attributes)
