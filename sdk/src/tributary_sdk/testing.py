"""Test doubles of the ``events`` client, so producers' tests never mock boto3.

- :class:`InMemoryEvents`: a bus that keeps every entry it is given.
- :class:`FlakyEvents` (and :class:`AsyncFlakyEvents` for asyncio clients): wraps a real client and fails
  some entries of each PutEvents call as AWS does on throttling (``FailedEntryCount`` and a per-entry
  ``ErrorCode``), sending the rest through for real.
"""

from __future__ import annotations

import json
import threading
from typing import Any


class InMemoryEvents:
    """A PutEvents-only client that keeps the entries it takes, in order."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.calls: list[int] = []
        self._lock = threading.Lock()

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(len(Entries))
            self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"e-{i}"} for i, _ in enumerate(Entries)]}


class _Faults:
    """Which entries fail: every ``every``-th entry seen, and then that event on each retry until it has
    failed ``times`` times."""

    def __init__(self, *, every: int, times: int, code: str) -> None:
        self.every, self.times, self.code = every, times, code
        self.seen = 0
        self.failed: dict[str, int] = {}
        self._lock = threading.Lock()

    def split(self, entries: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
        """Positions to fail and positions to send."""
        fail, send = [], []
        with self._lock:
            for position, entry in enumerate(entries):
                self.seen += 1
                event_id = json.loads(entry["Detail"])["id"]
                picked = event_id in self.failed or self.seen % self.every == 0
                if picked and self.failed.get(event_id, 0) < self.times:
                    self.failed[event_id] = self.failed.get(event_id, 0) + 1
                    fail.append(position)
                else:
                    send.append(position)
        return fail, send

    def merge(self, count: int, fail: list[int], send: list[int], response: dict[str, Any]) -> dict[str, Any]:
        results: list[dict[str, Any]] = [{} for _ in range(count)]
        for position in fail:
            results[position] = {"ErrorCode": self.code, "ErrorMessage": "injected by FlakyEvents"}
        for position, result in zip(send, response.get("Entries", []), strict=True):
            results[position] = result
        failed = len(fail) + int(response.get("FailedEntryCount", 0))
        return {"FailedEntryCount": failed, "Entries": results}


class FlakyEvents:
    """Wraps an ``events`` client; fails every ``every``-th entry, and that event again on each retry until
    it has failed ``times`` times."""

    def __init__(
        self, inner: Any, *, every: int = 7, times: int = 2, code: str = "ThrottlingException"
    ) -> None:
        self._inner = inner
        self.faults = _Faults(every=every, times=times, code=code)

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        fail, send = self.faults.split(Entries)
        response = self._inner.put_events(Entries=[Entries[p] for p in send]) if send else {"Entries": []}
        return self.faults.merge(len(Entries), fail, send, response)


class AsyncFlakyEvents:
    """:class:`FlakyEvents` for an asyncio ``events`` client (aiobotocore)."""

    def __init__(
        self, inner: Any, *, every: int = 7, times: int = 2, code: str = "ThrottlingException"
    ) -> None:
        self._inner = inner
        self.faults = _Faults(every=every, times=times, code=code)

    async def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        fail, send = self.faults.split(Entries)
        response = (
            await self._inner.put_events(Entries=[Entries[p] for p in send]) if send else {"Entries": []}
        )
        return self.faults.merge(len(Entries), fail, send, response)
