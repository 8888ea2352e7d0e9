"""Keeping an alert's claim while it is being sent: a heartbeat on the claim's lease.

A claim leases its notification for ``lease_s`` (the queue's visibility timeout); the runtime's visibility
heartbeat keeps the *message* from going to another replica, but an alert can also be reached another way
(a rate window's later events, the absence timer on every replica), and those take over a claim whose
lease ran out. A slow channel (a webhook retrying with backoff, an SNS call timing out) could outlast the
lease, and the alert would be sent twice. :class:`LeaseKeeper` extends the lease every ``every_s`` while
the alert is in hand, fenced by the claim's attempt count so it never extends a claim another worker took.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

import structlog

from notifier.ports import NotificationStateStore
from shared.errors import RetryableError

log = structlog.get_logger()


class LeaseKeeper:
    """A context manager: while open, a daemon thread extends the lease of ``(rule, key)`` every
    ``every_s`` seconds (a third of the lease, so two extensions can fail before it runs out).

    It stops on its own when the claim is lost (another worker resumed the alert, or it was settled); a
    store that fails an extension is tried again at the next beat.
    """

    def __init__(
        self,
        store: NotificationStateStore,
        *,
        rule: str,
        key: str,
        attempt: int,
        lease_s: float,
        every_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._rule, self._key, self._attempt = rule, key, attempt
        self._lease_s = lease_s
        self._every_s = every_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease:{rule}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def running(self) -> bool:
        """Whether the heartbeat thread still runs (it stops when closed or when the claim is lost)."""
        return self._thread.is_alive()

    def _run(self) -> None:
        fields = {"rule": self._rule, "key": self._key, "attempt": self._attempt}
        while not self._stop.wait(self._every_s):
            try:
                held = self._store.extend_lease(
                    self._rule, self._key, attempt=self._attempt, now=self._clock(), lease_s=self._lease_s
                )
            except RetryableError as exc:
                log.warning("lease_extend_failed", error=str(exc)[:300], **fields)
                continue
            if not held:
                log.warning("lease_lost", **fields)
                return
