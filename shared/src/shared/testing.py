"""Supported in-memory fakes of the runtime's ports, for services' unit tests (no mocking of boto3).

They keep the semantics that matter: visibility timeouts and receive counts for the queue, leases and
completion for the ledger. Time is injectable, so tests never sleep.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate

from shared.failure import limit_violations
from shared.idempotency import Claim, Landed, LedgerRow
from shared.idempotency.decide import ask_landed, decide
from shared.messages import DeadLetter, Message


def _locked[**P, R](
    method: Callable[Concatenate[InMemoryQueue, P], R],
) -> Callable[Concatenate[InMemoryQueue, P], R]:
    """Run the method under the queue's lock: pollers call the fake from several threads."""

    def wrapper(self: InMemoryQueue, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass
class _Stored:
    message_id: str
    body: str
    attributes: dict[str, str]
    visible_at: float = 0.0
    receives: int = 0
    first_received: float = 0.0
    receipt: str = ""


class InMemoryQueue:
    """A :class:`~shared.ports.MessageQueue` with SQS's visibility semantics and a DLQ list; thread-safe."""

    def __init__(
        self, *, visibility_timeout_s: int = 30, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._timeout = visibility_timeout_s
        self._messages: dict[str, _Stored] = {}
        self._ids = itertools.count(1)
        self.dead: list[DeadLetter] = []
        self.calls: dict[str, int] = {"receive": 0, "delete": 0, "change_visibility": 0, "dead_letter": 0}
        self._lock = threading.RLock()

    @_locked
    def send(self, body: str, attributes: dict[str, str] | None = None) -> str:
        message_id = f"m-{next(self._ids)}"
        self._messages[message_id] = _Stored(message_id, body, dict(attributes or {}))
        return message_id

    @property
    def depth(self) -> int:
        """Messages still in the queue, visible or not."""
        return len(self._messages)

    @_locked
    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        self.calls["receive"] += 1
        now = self._clock()
        out: list[Message] = []
        for stored in self._messages.values():
            if len(out) >= min(max_messages, 10):
                break
            if stored.visible_at > now:
                continue
            stored.receives += 1
            stored.first_received = stored.first_received or now
            stored.visible_at = now + self._timeout
            stored.receipt = f"{stored.message_id}#{stored.receives}"
            out.append(
                Message(
                    message_id=stored.message_id,
                    receipt_handle=stored.receipt,
                    body=stored.body,
                    receive_count=stored.receives,
                    first_received_ms=int(stored.first_received * 1000),
                    attributes=dict(stored.attributes),
                )
            )
        return out

    def _current(self, message: Message) -> _Stored | None:
        stored = self._messages.get(message.message_id)
        return stored if stored and stored.receipt == message.receipt_handle else None

    @_locked
    def delete(self, messages: Sequence[Message]) -> list[Message]:
        self.calls["delete"] += 1
        failed = []
        for m in messages:
            if self._current(m):
                del self._messages[m.message_id]
            else:
                failed.append(m)
        return failed

    @_locked
    def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> list[Message]:
        self.calls["change_visibility"] += 1
        failed = []
        for m in messages:
            stored = self._current(m)
            if stored:
                stored.visible_at = self._clock() + timeout_s
            else:
                failed.append(m)
        return failed

    @_locked
    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        """Keep the letters in :attr:`dead`; a letter over SQS's limits fails the test that produced it."""
        self.calls["dead_letter"] += 1
        for letter in letters:
            problems = limit_violations(letter.body, letter.attributes)
            if problems:
                raise DeadLetterLimitError(f"dead letter over SQS's limits: {'; '.join(problems)}")
        self.dead.extend(letters)
        return []


class DeadLetterLimitError(BaseException):
    """A dead letter SQS would refuse. A ``BaseException`` so that no runtime error handling hides it."""


class InMemoryLedger:
    """An :class:`~shared.idempotency.IdempotencyLedger` in a dict."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.rows: dict[str, LedgerRow] = {}

    def claim(self, ids: Mapping[str, str], *, location: str, lease_s: float, landed: Landed) -> Claim:
        now = self._clock()
        decision = decide(ids, self.rows, location=location, lease_s=lease_s, now=now)
        for id_ in decision.fresh:
            self.rows[id_] = LedgerRow(location, False, now, ids[id_])
        try:
            verdicts = ask_landed(decision.stale, landed)  # as the real ledgers do: no claim held meanwhile
        except BaseException:
            self.release(location)
            raise
        for id_, row in decision.stale.items():
            if self.rows.get(id_) != row:
                decision.busy.append(id_)
            elif verdicts[row.location]:
                self.rows[id_] = LedgerRow(row.location, True, now, row.digest)
                decision.done.append(id_)
            else:
                self.rows[id_] = LedgerRow(location, False, now, ids[id_])
                decision.fresh.append(id_)
        return Claim(fresh=decision.fresh, done=decision.done, busy=decision.busy, conflict=decision.conflict)

    def complete(self, location: str) -> None:
        now = self._clock()
        for id_, row in self.rows.items():
            if row.location == location:
                self.rows[id_] = LedgerRow(location, True, now, row.digest)

    def release(self, location: str) -> None:
        for id_ in [i for i, row in self.rows.items() if row.location == location and not row.done]:
            del self.rows[id_]

    def prune(self, *, older_than_s: float) -> int:
        cutoff = self._clock() - older_than_s
        gone = [id_ for id_, row in self.rows.items() if row.done and row.updated < cutoff]
        for id_ in gone:
            del self.rows[id_]
        return len(gone)


class InMemoryEmitter:
    """An X-Ray :class:`~shared.tracing.Emitter` keeping each segment as the JSON document the daemon gets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.documents: list[dict[str, Any]] = []

    def send_entity(self, entity: Any) -> None:
        document = json.loads(entity.serialize())
        with self._lock:
            self.documents.append(document)
