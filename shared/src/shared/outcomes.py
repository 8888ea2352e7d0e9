"""What happens to each message of a handled batch: delete, back off, or dead-letter with the reason."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.errors import PermanentError
from shared.messages import DeadLetter, Message

ATTR_PREFIX = "tributary."
# SQS refuses a message with more than 10 message attributes (SendMessage and its batch entries).
MAX_MESSAGE_ATTRIBUTES = 10


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
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(attempt - 1, 0))
        return max(1, round((rng or random).uniform(ceiling / 2, ceiling)))


@dataclass(kw_only=True)
class Outcomes:
    """The sorted fate of a batch's messages."""

    done: list[Message] = field(default_factory=list)
    retry: list[tuple[Message, Exception]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def sort_outcomes(
    failures: list[tuple[Message, Exception | None]], *, service: str, policy: RetryPolicy
) -> Outcomes:
    """Decide each message's fate from its failure (``None``: handled)."""
    outcomes = Outcomes()
    for message, error in failures:
        if error is None:
            outcomes.done.append(message)
        elif isinstance(error, PermanentError):
            outcomes.dead.append(dead_letter(message, error, service=service, reason=error.reason))
        elif message.receive_count >= policy.max_attempts:
            outcomes.dead.append(dead_letter(message, error, service=service, reason="retries_exhausted"))
        else:
            outcomes.retry.append((message, error))
    return outcomes


def dead_letter(message: Message, error: Exception, *, service: str, reason: str) -> DeadLetter:
    """A DLQ entry carrying why the message failed, how often, and since when."""
    first = message.first_received_ms / 1000 if message.first_received_ms else datetime.now(UTC).timestamp()
    attributes = {
        "reason": reason,
        "error_type": type(error).__name__,
        "error_message": (str(error) or repr(error))[:1000],
        "service": service,
        "attempts": str(message.receive_count),
        "first_failure_at": datetime.fromtimestamp(first, UTC).isoformat(timespec="milliseconds"),
    }
    # Keep what an earlier hop attached (e.g. the original service of a redriven message) unless replaced,
    # as far as SQS's attribute limit leaves room beside the reason (first names first).
    room = MAX_MESSAGE_ATTRIBUTES - len(attributes)
    foreign = sorted((k, v) for k, v in message.attributes.items() if not k.startswith(ATTR_PREFIX))
    kept = dict(foreign[:room])
    return DeadLetter(message=message, attributes=kept | {ATTR_PREFIX + k: v for k, v in attributes.items()})
