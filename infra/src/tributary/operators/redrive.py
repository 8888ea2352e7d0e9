"""DLQ redrive: back to the service's queue or onto the bus, all or filtered, rate-limited, or a dry run.

Message by message (always, when filtered; and where ``StartMessageMoveTask`` is not offered): a few
threads receive from the DLQ, hold what they saw (see :mod:`~tributary.operators.scan`), deliver the
matching letters — *send first, delete after* — and release everything else when the run ends. A crash
between the send and the delete delivers a letter twice (writers are idempotent on the event id); no
order of failures loses one. A letter whose delivery fails stays in the DLQ, and so does one that no
destination could take (a body without an envelope cannot go onto the bus).

Unfiltered redrive to the queue uses ``StartMessageMoveTask`` where the endpoint offers it
(:mod:`~tributary.operators.movetask`), with ``--rate`` as ``MaxNumberOfMessagesPerSecond``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tributary.operators.batches import delete_messages
from tributary.operators.destinations import Destination
from tributary.operators.letters import Letter, Selector
from tributary.operators.ratelimit import TokenBucket, Unlimited
from tributary.operators.scan import Held, InFlightLimit, queue_counts, receive

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True, kw_only=True)
class RedriveOptions:
    """How a redrive runs.

    Args:
        selector: which letters move (default: all).
        max_messages: stop after this many moved (or, in a dry run, found).
        dry_run: find and count, move nothing.
        visibility_s: how long a letter this run has seen stays hidden; if the run is killed, that is how
            soon its letters return.
        wait_in_flight: when the DLQ looks empty but holds in-flight letters of another reader (a killed
            run), wait up to ``in_flight_timeout_s`` for them to return, and take them too.
        concurrency: receiving threads.
    """

    selector: Selector = field(default_factory=Selector)
    max_messages: int | None = None
    dry_run: bool = False
    visibility_s: int = 120
    wait_in_flight: bool = False
    in_flight_timeout_s: float = 900.0
    concurrency: int = 4


@dataclass(kw_only=True)
class RedriveReport:
    """What a redrive did (also its progress while it runs)."""

    method: str = "by message"
    destination: str = ""
    scanned: int = 0
    matched: int = 0
    moved: int = 0
    failed: int = 0
    delete_failed: int = 0
    skipped: int = 0
    released: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    elapsed_s: float = 0.0
    others_in_flight: int = 0

    @property
    def rate(self) -> float:
        elapsed = self.elapsed_s or (time.monotonic() - self.started)
        return self.moved / elapsed if elapsed > 0 else 0.0


def kind_of(letter: Letter) -> str:
    """How summaries group letters: ``<detail-type> · <error type>``."""
    return f"{letter.detail_type or '(no envelope)'} · {letter.reason.get('error_type') or '(no reason)'}"


class MessageMover:
    """One message-by-message redrive (or dry run) over a DLQ; :meth:`run` once."""

    def __init__(
        self,
        *,
        sqs: SQSClient,
        dlq_url: str,
        destination: Destination | None,
        options: RedriveOptions,
        limiter: TokenBucket | Unlimited | None = None,
        report: RedriveReport | None = None,
    ) -> None:
        if destination is None and not options.dry_run:
            raise ValueError("a redrive that is not a dry run needs a destination")
        self._sqs = sqs
        self._dlq = dlq_url
        self._dest = destination
        self._opt = options
        self._limiter = limiter or Unlimited()
        self.report = report or RedriveReport()
        self.report.destination = destination.name if destination else "(dry run)"
        self._held = Held(sqs, dlq_url)
        self._seen: set[str] = set()
        self._delivered: set[str] = set()
        self._deleted: set[str] = set()
        self._undeleted: set[str] = set()
        self._reserved = 0
        self._busy = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._deadline = time.monotonic() + options.in_flight_timeout_s

    def run(self, progress: Callable[[RedriveReport], None] = lambda _: None) -> RedriveReport:
        """Redrive until the DLQ has nothing more to give; Ctrl-C stops after the batches in hand."""
        threads = [
            threading.Thread(target=self._worker, name=f"redrive-{i}", daemon=True)
            for i in range(max(1, self._opt.concurrency))
        ]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                time.sleep(0.2)
                progress(self.report)
        except KeyboardInterrupt:
            self._stop.set()
            self.report.notes.append("interrupted: finished the batches in hand, released the rest")
            for thread in threads:
                thread.join()
            raise
        finally:
            self._stop.set()
            released, _ = self._held.release_all()
            self.report.released += released
            self.report.elapsed_s = time.monotonic() - self.report.started
            progress(self.report)
        if self._errors:
            raise self._errors[0]
        return self.report

    # -- one thread --------------------------------------------------------------------------------------

    def _worker(self) -> None:
        empty_rounds = 0
        try:
            while not self._stop.is_set():
                want = self._room()
                if want == 0:
                    self._stop.set()
                    break
                letters = receive(
                    self._sqs, self._dlq, max_messages=want, visibility_s=self._opt.visibility_s
                )
                if not letters:
                    empty_rounds += 1
                    if self._keep_waiting(empty_rounds):
                        continue
                    break
                empty_rounds = 0
                with self._lock:
                    self._busy += 1
                try:
                    self._handle(letters)
                finally:
                    with self._lock:
                        self._busy -= 1
        except InFlightLimit:
            self.report.notes.append("stopped at SQS's in-flight limit; run again for the rest")
            self._stop.set()
        except BaseException as exc:  # noqa: BLE001 - not swallowed: run() re-raises it in the caller's thread
            self._errors.append(exc)
            self._stop.set()

    def _room(self) -> int:
        """How many letters to ask for: 10, fewer near ``--max`` or a slow ``--rate``."""
        want = 10
        rate = getattr(self._limiter, "rate", float("inf"))
        if rate < 10:
            want = max(1, int(rate))
        if self._opt.max_messages is not None:
            with self._lock:
                want = min(want, self._opt.max_messages - self._reserved)
        return max(0, want)

    def _keep_waiting(self, empty_rounds: int) -> bool:
        """After an empty receive: go on if the DLQ still shows visible letters (a few rounds: the counts
        lag), or, if asked to, while letters another reader holds have yet to return."""
        counts = queue_counts(self._sqs, self._dlq)
        with self._lock:
            others = max(0, counts.in_flight - len(self._held) - 10 * self._busy)
        self.report.others_in_flight = others
        if counts.visible > 0 and empty_rounds < 5:
            return True
        if not (self._opt.wait_in_flight and others and time.monotonic() < self._deadline):
            return False
        time.sleep(1.0)
        return True

    def _handle(self, letters: list[Letter]) -> None:
        with self._lock:
            fresh = [le for le in letters if le.message_id not in self._seen]
            again = [le for le in letters if le.message_id in self._seen]
            self._seen.update(le.message_id for le in fresh)
            redelete = [le for le in again if le.message_id in self._delivered]
            self.report.scanned += len(fresh)
        self._held.hold([le for le in again if le.message_id not in self._delivered])
        if redelete:  # delivered before, but the delete failed: delete now, never send twice
            self._delete(redelete)
        matching = [le for le in fresh if self._opt.selector.matches(le)]
        self._held.hold([le for le in fresh if not self._opt.selector.matches(le)])
        with self._lock:
            self.report.skipped += len(fresh) - len(matching)
            room = len(matching)
            if self._opt.max_messages is not None:
                room = max(0, min(room, self._opt.max_messages - self._reserved))
            take, extra = matching[:room], matching[room:]
            self._reserved += len(take)
            self.report.matched += len(take)
            self.report.kinds.update(kind_of(le) for le in take)
        self._held.hold(extra)
        if not take:
            return
        if self._dest is None:  # dry run
            self._held.hold(take)
            return
        try:
            self._limiter.acquire(len(take))
            result = self._dest.deliver(take)
        except BaseException:
            self._held.hold(take)  # released with the rest when the run ends: nothing was deleted
            raise
        with self._lock:
            self._delivered.update(le.message_id for le in result.ok)
            self.report.failed += len(result.failed)
            self.report.failures.update(why.split(":", 1)[0] for _, why in result.failed)
        self._held.hold([le for le, _ in result.failed])
        self._delete(result.ok)

    def _delete(self, letters: list[Letter]) -> None:
        """Delete delivered letters. One whose delete fails is delivered again by a later run (a duplicate the
        writers absorb), or deleted without a resend if this run sees it again; a second copy SQS hands out
        (receives are at least once) is deleted too, and counted once."""
        deleted = delete_messages(self._sqs, self._dlq, letters, handle=lambda le: le.receipt_handle)
        with self._lock:
            for letter in deleted.ok:
                if letter.message_id not in self._deleted:
                    self._deleted.add(letter.message_id)
                    self.report.moved += 1
                self._undeleted.discard(letter.message_id)
            self._undeleted.update(
                le.message_id for le, _ in deleted.failed if le.message_id not in self._deleted
            )
            self.report.delete_failed = len(self._undeleted)
