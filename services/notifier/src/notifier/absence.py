"""The absence timer: every ``interval_s``, find the subjects each absence rule has not seen, and alert.

A silence is one alert: its key is the subject and its last sighting, so however many passes (or
replicas) find it, the state store's once-only claim lets one notification through. A delivery that fails
is retried on the next pass; after ``max_attempts`` it is abandoned with an ``alert_abandoned`` error log,
as a timer alert has no queue message to dead-letter. A silence this process saw finished is not claimed
again on later passes, so a long silence costs one store write, not one per pass. The same thread prunes
expired state hourly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from notifier.domain import absence_alerts
from notifier.handler import Notifier
from notifier.ports import NotificationStateStore
from shared.errors import PermanentError, RetryableError

log = structlog.get_logger()

PRUNE_EVERY_S = 3600.0
MAX_REMEMBERED = 100_000


class AbsenceWatch:
    """Runs absence checks on a timer thread (:meth:`start`/:meth:`stop`), or one pass on demand."""

    def __init__(
        self,
        *,
        notifier: Notifier,
        store: NotificationStateStore,
        interval_s: float,
        max_attempts: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._notifier = notifier
        self._store = store
        self._interval_s = interval_s
        self._max_attempts = max_attempts
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at: float | None = None
        self._finished: set[tuple[str, str]] = set()

    def _remember(self, key: tuple[str, str]) -> None:
        """Silences this process has seen finished are not claimed again on every pass."""
        if len(self._finished) >= MAX_REMEMBERED:
            self._finished.clear()  # forgetting only costs one claim per silence
        self._finished.add(key)

    def check(self) -> dict[str, int]:
        """One pass over every absence rule; returns how many alerts ended how (``sent``, ``failed``…)."""
        outcomes: dict[str, int] = {}
        now = self._clock()
        down: dict[str, Exception] = {}
        for rule in self._notifier.rules.absence_rules:
            silent = self._store.silent(rule.name, before=now - rule.after_s, now=now)
            for alert in absence_alerts(rule, silent, now=now):
                if (alert.rule, alert.key) in self._finished:
                    continue
                try:
                    outcome = self._notifier.deliver(alert, down=down, give_up_after=self._max_attempts)
                    self._remember((alert.rule, alert.key))
                except (RetryableError, PermanentError) as exc:
                    outcome = "failed"
                    log.warning(
                        "absence_alert_failed", rule=rule.name, subject=alert.subject, error=str(exc)[:300]
                    )
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        self._prune_now_and_then(now)
        return outcomes

    def _prune_now_and_then(self, now: float) -> None:
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = now
            pruned = self._store.prune(now=now)
            if pruned:
                log.info("state_pruned", entries=pruned)

    def start(self) -> None:
        """Run :meth:`check` every ``interval_s`` on a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="absence", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                outcomes = self.check()
            except RetryableError as exc:  # the store is down: try again next pass
                log.warning("absence_check_failed", error=str(exc)[:300])
                continue
            except Exception:  # a bug must not stop the timer for good: log it with its traceback
                log.exception("absence_check_crashed")
                continue
            if outcomes:
                log.info("absence_checked", **outcomes)
