"""DLQ operations as the commands run them: redrive (choosing how), purge.

:func:`redrive` picks the method: ``StartMessageMoveTask`` for an unfiltered, unbounded redrive back to the
queue (when the endpoint offers it and ``--rate`` fits it), message by message for everything else or
when the endpoint refuses the task — the refusal is noted once in the log and in the report.
:func:`purge` deletes by message (never ``PurgeQueue``), so it can say exactly what it removed and save it
first.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Literal

import structlog

from tributary.operators.batches import BatchResult
from tributary.operators.destinations import BusDestination, QueueDestination
from tributary.operators.letters import Letter, Selector
from tributary.operators.movetask import (
    MAX_RATE,
    MoveTaskRefused,
    MoveTaskState,
    follow_move_task,
    start_move_task,
)
from tributary.operators.ratelimit import TokenBucket
from tributary.operators.redrive import MessageMover, RedriveOptions, RedriveReport
from tributary.operators.scan import queue_counts
from tributary.operators.target import QueuePair, queue_arn

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

log = structlog.get_logger(__name__)

Progress = Callable[[RedriveReport], None]


MAX_MOVE_PASSES = 10  # move tasks one --wait-in-flight redrive may run (letters keep coming back)


def _move_task_misfit(options: RedriveOptions, to: str, rate: float | None) -> str | None:
    """Why this redrive cannot be a move task (``None``: it can)."""
    if to != "queue":
        return "the bus"
    if options.dry_run:
        return "a dry run"
    if not options.selector.takes_everything:
        return "a filter"
    if options.max_messages is not None:
        return "--max"
    if rate is not None and not (1 <= rate <= MAX_RATE and rate == int(rate)):
        return f"--rate {rate:g}/s (a move task takes whole numbers 1 to {MAX_RATE})"
    return None


def redrive(
    *,
    sqs: SQSClient,
    events: EventBridgeClient,
    pair: QueuePair,
    bus_name: str,
    to: Literal["queue", "bus"] = "queue",
    options: RedriveOptions | None = None,
    rate: float | None = None,
    by_message: bool = False,
    progress: Progress = lambda _: None,
) -> RedriveReport:
    """Redrive ``pair``'s DLQ to its queue or to the bus ``bus_name``; see the module docs for the method.

    Raises:
        KeyboardInterrupt: after stopping cleanly (batches in hand finished, held letters released, a move
            task cancelled); the report so far is in the progress callback's last call.
    """
    opts = options or RedriveOptions()
    report = RedriveReport()
    misfit = "--by-message" if by_message else _move_task_misfit(opts, to, rate)
    if misfit is None:
        try:
            return _move_with_task(sqs, pair, opts, rate, report, progress)
        except MoveTaskRefused as refused:
            log.warning(
                "move_task_not_offered", code=refused.code, message=refused.message, fallback="by_message"
            )
            report.notes.append(
                f"StartMessageMoveTask is not offered here ({refused.code}: {refused.message}); "
                "moving message by message instead"
            )
            report.method = "by message (fallback)"
    destination = (
        QueueDestination(sqs=sqs, url=pair.url)
        if to == "queue"
        else BusDestination(events=events, bus_name=bus_name)
    )
    mover = MessageMover(
        sqs=sqs,
        dlq_url=pair.dlq_url,
        destination=None if opts.dry_run else destination,
        options=opts,
        limiter=TokenBucket(rate) if rate else None,
        report=report,
    )
    if opts.dry_run:
        report.destination = f"{destination.name} (dry run)"
    return mover.run(progress)


def _move_with_task(
    sqs: SQSClient,
    pair: QueuePair,
    opts: RedriveOptions,
    rate: float | None,
    report: RedriveReport,
    progress: Progress,
) -> RedriveReport:
    source, destination = queue_arn(sqs, pair.dlq_url), queue_arn(sqs, pair.url)
    report.method = "StartMessageMoveTask"
    report.destination = "queue " + pair.name
    moved_before = 0
    passes = 0
    deadline = time.monotonic() + opts.in_flight_timeout_s

    def on_state(state: MoveTaskState) -> None:
        report.moved = report.matched = moved_before + state.moved
        progress(report)

    while True:
        handle = start_move_task(
            sqs, source_arn=source, destination_arn=destination, rate=int(rate) if rate else None
        )
        state = follow_move_task(sqs, source_arn=source, handle=handle, on_state=on_state)
        moved_before += state.moved
        if state.status != "COMPLETED":
            report.notes.append(
                f"move task ended {state.status}: {state.failure_reason or 'no reason given'}"
            )
            break
        counts = queue_counts(sqs, pair.dlq_url)
        report.others_in_flight = counts.in_flight
        if not opts.wait_in_flight:
            break
        while counts.in_flight and not counts.visible and time.monotonic() < deadline:
            time.sleep(1.0)  # letters a killed reader held come back when their visibility runs out
            counts = queue_counts(sqs, pair.dlq_url)
        report.others_in_flight = counts.in_flight
        # Letters that came back while the task ran (or just after it) are visible now: another pass takes
        # them. The passes are bounded, so letters failing straight back into the DLQ cannot loop forever.
        passes += 1
        if not counts.visible or passes >= MAX_MOVE_PASSES or time.monotonic() >= deadline:
            break
    report.moved = report.matched = moved_before
    report.elapsed_s = time.monotonic() - report.started
    progress(report)
    return report


class Discard:
    """The destination of a purge: letters are written to ``save`` (if given), then count as delivered."""

    name = "nowhere (purge)"

    def __init__(self, save: IO[str] | None = None) -> None:
        self._save = save
        self._lock = threading.Lock()

    def deliver(self, letters: list[Letter]) -> BatchResult[Letter]:
        if self._save is not None:
            lines = "".join(json.dumps(le.summary(), separators=(",", ":")) + "\n" for le in letters)
            with self._lock:
                self._save.write(lines)
                self._save.flush()
        return BatchResult(ok=list(letters))


@dataclass(kw_only=True)
class PurgeReport:
    """What a purge removed, by ``<detail-type> · <error type>``."""

    removed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    left_in_flight: int = 0
    elapsed_s: float = 0.0


def purge(
    *,
    sqs: SQSClient,
    dlq_url: str,
    selector: Selector | None = None,
    save: IO[str] | None = None,
    progress: Progress = lambda _: None,
) -> PurgeReport:
    """Delete the DLQ's letters (those ``selector`` takes), saving each to ``save`` first if given."""
    mover = MessageMover(
        sqs=sqs,
        dlq_url=dlq_url,
        destination=Discard(save),
        options=RedriveOptions(selector=selector or Selector(), visibility_s=60),
    )
    report = mover.run(progress)
    return PurgeReport(
        removed=report.moved,
        kinds=report.kinds,
        left_in_flight=report.others_in_flight,
        elapsed_s=report.elapsed_s,
    )
