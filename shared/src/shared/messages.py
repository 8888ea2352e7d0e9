"""Queue messages and how the runtime reads an envelope out of one.

A message body is either an EventBridge event (``{"detail-type": …, "detail": {envelope}}``, what a rule
delivers) or a bare envelope (what a redrive to a queue or a replay may send).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from contracts import Envelope
from shared.boundedjson import loads
from shared.errors import ContractError
from shared.failure import Failure, read_failure
from shared.summaries import validation_summary


@dataclass(frozen=True, kw_only=True)
class Message:
    """One received queue message.

    ``receive_count`` is SQS's ``ApproximateReceiveCount`` (1 on the first delivery);
    ``first_received_ms`` its ``ApproximateFirstReceiveTimestamp``; ``trace_header`` its ``AWSTraceHeader``
    (emulators drop it: the envelope's ``trace`` stands in).
    """

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1
    first_received_ms: int = 0
    attributes: dict[str, str] = field(default_factory=dict)
    trace_header: str | None = None

    @property
    def size(self) -> int:
        return len(self.body)


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    """A message on its way to the DLQ: what the DLQ gets as body and attributes (see :mod:`shared.failure`).

    ``body`` is the original's, or a summary when the original would not fit beside the failure record.
    """

    message: Message
    body: str
    attributes: dict[str, str]

    @property
    def failure(self) -> Failure | None:
        """The failure record the letter carries."""
        return read_failure(self.attributes)


def parse_envelope(body: str) -> Envelope:
    """The envelope carried by a message body, parsed within :mod:`shared.boundedjson`'s limits.

    Raises:
        ContractError: if the body is not JSON, breaks a size, depth or number limit, or holds no valid
            envelope. The message never quotes the body.
    """
    doc = loads(body)
    if isinstance(doc, dict) and "detail" in doc and "detail-type" in doc:
        doc = doc["detail"]
    try:
        return Envelope.model_validate(doc)
    except ValidationError as exc:
        raise ContractError(f"message holds no valid envelope: {validation_summary(exc)}") from exc
