"""Recent dead letters for the page: per non-empty DLQ, its newest letters with their reasons, and the
``tributary dlq redrive`` commands that would move them (all of them, or one event by id).

Letters are read with :func:`tributary.operators.scan.peek` and decoded by
:mod:`tributary.operators.letters`, the one reader of the failure attributes: a peek hides each letter for
a moment and releases it, so nothing is consumed (its receive count goes up by one). Bodies never reach
the page: only the event's id and type and the reason.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tributary.console.source import StackSource, cli_location
from tributary.operators.letters import Letter
from tributary.operators.scan import peek, queue_counts
from tributary.operators.target import TargetError

PEEK_VISIBILITY_S = 10
EPOCH = datetime.min.replace(tzinfo=UTC)


def redrive_command(service: str, location: list[str], *, event_id: str | None = None) -> str:
    """The command an operator runs to move ``service``'s letters (one event's when ``event_id``)."""
    args = ["tributary", "dlq", "redrive", service, *location]
    if event_id:
        args += ["--filter", f"id={event_id}"]
    return shlex.join(args)


def letter_row(letter: Letter, service: str, location: list[str]) -> dict[str, Any]:
    failed_at = letter.failed_at
    return {
        "event_id": letter.event_id,
        "type": letter.detail_type or letter.type,
        "source": letter.source,
        "reason": letter.reason.get("reason"),
        "error_type": letter.reason.get("error_type"),
        "error_message": letter.reason.get("error_message"),
        "attempts": letter.reason.get("attempts"),
        "failed_at": failed_at.isoformat(timespec="seconds") if failed_at else None,
        "receive_count": letter.receive_count,
        "redrive": redrive_command(service, location, event_id=letter.event_id) if letter.event_id else None,
    }


def recent_letters(source: StackSource, *, per_queue: int = 10) -> dict[str, Any]:
    """Every non-empty DLQ of the stack: depth, newest ``per_queue`` letters, redrive commands."""
    info = source.description()
    target = source.target(info)
    sqs = target.client("sqs")
    location = cli_location(info)
    queues: list[dict[str, Any]] = []
    errors: list[str] = []
    for service in target.workers():
        try:
            pair = target.queue_pair(service)
            depth = queue_counts(sqs, pair.dlq_url).total
            if not depth:
                continue
            letters = peek(sqs, pair.dlq_url, count=per_queue, visibility_s=PEEK_VISIBILITY_S, wait_s=0)
        except (TargetError, ClientError, BotoCoreError) as exc:
            errors.append(f"{service}: {exc}")
            continue
        letters.sort(key=lambda le: le.failed_at or EPOCH, reverse=True)
        queues.append(
            {
                "service": service,
                "dlq": pair.dlq_name,
                "depth": depth,
                "redrive": redrive_command(service, location),
                "dry_run": redrive_command(service, location) + " --dry-run",
                "letters": [letter_row(le, service, location) for le in letters],
            }
        )
    return {"queues": queues, "errors": errors}
