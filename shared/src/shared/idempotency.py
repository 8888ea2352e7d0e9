"""The idempotency ledger: exactly-once effect for writers whose store cannot dedupe by itself.

A writer claims the event ids of a write *before* it writes, naming the write's location (an S3 key, say),
and completes the location once the write has landed. A redelivered, redriven or resent event then finds
its id ``done`` and is skipped. If a writer crashed between claiming and completing, the claim's lease runs
out and the next writer asks the store whether that earlier write landed: if it did the ids are done, if it
did not the new writer takes them over. While a lease runs, the ids are ``busy`` (retry later), so two
replicas never write the same event at once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import batched
from pathlib import Path
from typing import Protocol

Landed = Callable[[str], bool]


@dataclass(frozen=True, kw_only=True)
class Claim:
    """The result of a claim: write ``fresh``, skip ``done``, retry ``busy`` later."""

    fresh: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)


class IdempotencyLedger(Protocol):
    """Who wrote which event id where. Safe across threads and processes sharing the ledger."""

    def claim(self, ids: Sequence[str], *, location: str, lease_s: float, landed: Landed) -> Claim:
        """Claim ``ids`` for a write to ``location``.

        ``landed(loc)`` tells whether an earlier, unfinished write to ``loc`` exists in the store.
        """
        ...

    def complete(self, location: str) -> None:
        """Mark every id claimed for ``location`` as stored."""
        ...

    def release(self, location: str) -> None:
        """Drop the pending claims for ``location`` (its write failed), so a retry may claim them at once."""
        ...

    def prune(self, *, older_than_s: float) -> int:
        """Forget completed ids older than ``older_than_s`` (the dedupe window); returns how many."""
        ...


@dataclass(frozen=True)
class LedgerRow:
    location: str
    done: bool
    updated: float


def decide(
    ids: Sequence[str],
    rows: dict[str, LedgerRow],
    *,
    location: str,
    lease_s: float,
    landed: Landed,
    now: float,
) -> tuple[Claim, list[str], list[str]]:
    """The claim, the ids to (re)assign to ``location`` and the ids found landed elsewhere."""
    fresh: list[str] = []
    done: list[str] = []
    busy: list[str] = []
    landed_elsewhere: list[str] = []
    verdicts: dict[str, bool] = {}
    for id_ in dict.fromkeys(ids):
        row = rows.get(id_)
        if row is None or row.location == location:
            fresh.append(id_)
        elif row.done:
            done.append(id_)
        elif now - row.updated < lease_s:
            busy.append(id_)
        else:
            if row.location not in verdicts:
                verdicts[row.location] = landed(row.location)
            if verdicts[row.location]:
                done.append(id_)
                landed_elsewhere.append(id_)
            else:
                fresh.append(id_)
    return Claim(fresh=fresh, done=done, busy=busy), fresh, landed_elsewhere


class SqliteLedger:
    """:class:`IdempotencyLedger` in a SQLite file (WAL), shared by the replicas of one service on a host."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, location TEXT NOT NULL,"
            " done INTEGER NOT NULL, updated REAL NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS claims_location ON claims(location)")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def claim(self, ids: Sequence[str], *, location: str, lease_s: float, landed: Landed) -> Claim:
        now = self._clock()
        with self._transaction() as db:
            rows: dict[str, LedgerRow] = {}
            for chunk in batched(dict.fromkeys(ids), 500, strict=False):
                marks = ",".join("?" * len(chunk))
                for id_, loc, done, updated in db.execute(
                    f"SELECT id, location, done, updated FROM claims WHERE id IN ({marks})",  # noqa: S608
                    chunk,
                ):
                    rows[id_] = LedgerRow(loc, bool(done), updated)
            claim, assign, landed_elsewhere = decide(
                ids, rows, location=location, lease_s=lease_s, landed=landed, now=now
            )
            db.executemany(
                "INSERT INTO claims VALUES (?, ?, 0, ?) ON CONFLICT(id) DO UPDATE"
                " SET location=excluded.location, done=0, updated=excluded.updated",
                [(id_, location, now) for id_ in assign],
            )
            db.executemany(
                "UPDATE claims SET done=1, updated=? WHERE id=?", [(now, id_) for id_ in landed_elsewhere]
            )
        return claim

    def complete(self, location: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE claims SET done=1, updated=? WHERE location=?", (self._clock(), location))

    def release(self, location: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM claims WHERE location=? AND done=0", (location,))

    def prune(self, *, older_than_s: float) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM claims WHERE done=1 AND updated < ?", (self._clock() - older_than_s,)
            )
            return cursor.rowcount

    def close(self) -> None:
        self._db.close()
