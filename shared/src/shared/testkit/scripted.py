"""A queue fake whose receives follow a script on a hand-moved clock, for tests of the worker's timing.

Each step of the script is one receive: ``n`` returns ``n`` new messages (valid rule-delivered events),
:class:`Quiet` returns none after moving the clock on (a long poll that found nothing). Once the script is
done, a receive blocks until :meth:`ScriptedQueue.release` and then finds nothing: the test, not a timer,
decides when the stream ends. Deletes can be held at a gate to catch settling in the act. Every call, and
whatever a test notes (the handler), goes into one ordered :attr:`ScriptedQueue.log` with the clock's time.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from shared.messages import DeadLetter, Message
from shared.testkit.envelopes import FakeClock, envelope, rule_body


@dataclass(frozen=True)
class Quiet:
    """A receive that finds nothing, ``s`` seconds of the clock after it began."""

    s: float


@dataclass(frozen=True)
class Entry:
    """One logged step: ``what`` (``receive``, ``delete``, ``delete_started`` or a test's note), how many
    messages, and the clock's time."""

    what: str
    count: int
    at: float


class ScriptedQueue:
    """A :class:`~shared.ports.MessageQueue` driven by a script (module docstring); thread-safe."""

    def __init__(self, script: Sequence[int | Quiet], *, clock: FakeClock) -> None:
        self._script = list(script)
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._released = threading.Event()
        self.deletes_open = threading.Event()
        self.deletes_open.set()
        self.delete_started = threading.Event()
        self.log: list[Entry] = []
        self.deleted: list[str] = []  # message ids, in the order their deletes completed
        self.dead: list[DeadLetter] = []

    def note(self, what: str, count: int) -> None:
        """Add a test's own step (the handler's call) to the log."""
        with self._lock:
            self.log.append(Entry(what, count, self._clock()))

    def entries(self, what: str) -> list[Entry]:
        with self._lock:
            return [e for e in self.log if e.what == what]

    def release(self) -> None:
        """End the stream: receives past the script return nothing from now on."""
        self._released.set()

    def hold_deletes(self) -> None:
        self.deletes_open.clear()

    def open_deletes(self) -> None:
        self.deletes_open.set()

    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        with self._lock:
            step = self._script.pop(0) if self._script else None
        if step is None:
            self._released.wait()
            return []
        if isinstance(step, Quiet):
            with self._lock:
                self._clock.advance(step.s)
                self.log.append(Entry("receive", 0, self._clock()))
            return []
        messages = [self._message() for _ in range(min(step, max_messages))]
        self.note("receive", len(messages))
        return messages

    def delete(self, messages: Sequence[Message]) -> list[Message]:
        self.note("delete_started", len(messages))
        self.delete_started.set()
        self.deletes_open.wait()
        with self._lock:
            self.deleted.extend(m.message_id for m in messages)
            self.log.append(Entry("delete", len(messages), self._clock()))
        return []

    def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> list[Message]:
        self.note("change_visibility", len(messages))
        return []

    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        with self._lock:
            self.dead.extend(letters)
        return []

    def _message(self) -> Message:
        n = next(self._ids)
        return Message(message_id=f"m-{n}", receipt_handle=f"r-{n}", body=rule_body(envelope()))
