"""Polling for an end state in tests that watch a running stack.

A stack test never sleeps for a fixed time: it waits for a condition with a deadline. When the deadline
passes, :func:`wait_for` fails the test saying what it waited for (the caller's line, or ``what``) and what it
saw last, so a timeout on a loaded CI machine reads as a diagnosis rather than ``assert []``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable


class WaitTimeout(AssertionError):
    """A condition a test waited for did not hold before its deadline."""


def wait_for[T](
    predicate: Callable[[], T],
    timeout_s: float,
    interval_s: float = 0.5,
    *,
    what: str | None = None,
    seen: Callable[[], object] | None = None,
) -> T:
    """Call ``predicate`` until it returns something truthy; that value.

    Raises:
        WaitTimeout: ``timeout_s`` passed first; the message names the condition (``what``, else the
            calling line) and the last value (or what ``seen()`` reports then, e.g. queue depths).
    """
    started = time.monotonic()
    deadline = started + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(_timeout_message(what, value, seen, time.monotonic() - started))
        time.sleep(interval_s)


def _timeout_message(
    what: str | None, value: object, seen: Callable[[], object] | None, waited: float
) -> str:
    if what is None:
        caller = inspect.stack(context=1)[2]
        line = (caller.code_context or ["?"])[0].strip()
        what = f"{line} ({caller.filename.rsplit('/', 1)[-1]}:{caller.lineno})"
    try:
        saw = seen() if seen is not None else value
    except Exception as exc:  # noqa: BLE001  # the report of a failure must not hide it
        saw = f"<seen() failed: {exc!r}>"
    return f"waited {waited:.1f} s for {what}; last saw: {repr(saw)[:1000]}"
