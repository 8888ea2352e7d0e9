"""Reading dead letters in tests: the failure record, after checking the letter against SQS's limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.failure import limit_violations, read_failure


def failure_of(message: Mapping[str, Any]) -> dict[str, str]:
    """The failure fields (``reason``, ``error_type``, ``error_message``, ``service``, ``attempts``,
    ``first_failure_at``) of a DLQ message as ``ReceiveMessage`` returns it.

    Fails the test if the letter breaks SQS's limits (more than 10 attributes, over 256 KiB) or carries no
    failure record: every dead letter a suite produces passes through here.
    """
    attributes = {
        k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items() if "StringValue" in v
    }
    problems = limit_violations(str(message.get("Body", "")), attributes)
    assert not problems, f"dead letter over SQS's limits: {problems}"
    failure = read_failure(attributes)
    assert failure is not None, f"dead letter without a failure record: {sorted(attributes)}"
    return failure.fields()
