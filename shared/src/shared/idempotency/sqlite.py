"""SQLite backend of the ledger: one file (WAL) shared by the replicas of one service on a host.

A claim runs in two short transactions around the store question: the first reads the rows and claims the
new ids, the second settles the stale ones (an expired claim elsewhere) once the store has said whether
their write landed, and only if no other writer changed those rows in between (otherwise they are busy).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from itertools import batched
from pathlib import Path

from shared.idempotency.decide import LedgerRow, ask_landed, decide
from shared.idempotency.ports import Claim, Landed

_CHUNK = 500  # ids per statement, well under SQLite's bound-parameter limit


class SqliteLedger:
    """:class:`~shared.idempotency.IdempotencyLedger` in a SQLite file."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, location TEXT NOT NULL,"
            " done INTEGER NOT NULL, updated REAL NOT NULL, digest TEXT NOT NULL DEFAULT '')"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(claims)")}
        if "digest" not in columns:  # a ledger file written before digests were kept
            self._db.execute("ALTER TABLE claims ADD COLUMN digest TEXT NOT NULL DEFAULT ''")
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

    @staticmethod
    def _rows(db: sqlite3.Connection, ids: list[str]) -> dict[str, LedgerRow]:
        rows: dict[str, LedgerRow] = {}
        for chunk in batched(ids, _CHUNK, strict=False):
            marks = ",".join("?" * len(chunk))
            for id_, loc, done, updated, digest in db.execute(
                f"SELECT id, location, done, updated, digest FROM claims WHERE id IN ({marks})",  # noqa: S608
                chunk,
            ):
                rows[id_] = LedgerRow(loc, bool(done), updated, digest)
        return rows

    @staticmethod
    def _assign(
        db: sqlite3.Connection, ids: Mapping[str, str], fresh: list[str], location: str, now: float
    ) -> None:
        db.executemany(
            "INSERT INTO claims VALUES (?, ?, 0, ?, ?) ON CONFLICT(id) DO UPDATE"
            " SET location=excluded.location, done=0, updated=excluded.updated, digest=excluded.digest",
            [(id_, location, now, ids[id_]) for id_ in fresh],
        )

    def claim(self, ids: Mapping[str, str], *, location: str, lease_s: float, landed: Landed) -> Claim:
        now = self._clock()
        with self._transaction() as db:
            decision = decide(ids, self._rows(db, list(ids)), location=location, lease_s=lease_s, now=now)
            self._assign(db, ids, decision.fresh, location, now)
        if decision.stale:
            try:
                verdicts = ask_landed(decision.stale, landed)
            except BaseException:
                self.release(location)  # the store cannot answer: claim nothing, the whole claim retries
                raise
            with self._transaction() as db:
                current = self._rows(db, list(decision.stale))
                unchanged = [id_ for id_, row in decision.stale.items() if current.get(id_) == row]
                decision.busy.extend(id_ for id_ in decision.stale if id_ not in unchanged)
                taken = [id_ for id_ in unchanged if not verdicts[decision.stale[id_].location]]
                settled = [id_ for id_ in unchanged if verdicts[decision.stale[id_].location]]
                self._assign(db, ids, taken, location, now)
                db.executemany("UPDATE claims SET done=1, updated=? WHERE id=?", [(now, i) for i in settled])
            decision.fresh.extend(taken)
            decision.done.extend(settled)
        return Claim(fresh=decision.fresh, done=decision.done, busy=decision.busy, conflict=decision.conflict)

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
