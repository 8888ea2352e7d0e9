"""SQLite adapter of :class:`~notifier.ports.NotificationStateStore`: the local default.

One file (WAL) under the service's data folder, shared by its replicas on one host. Once-only is the
primary key ``(rule, key)`` with ``INSERT … ON CONFLICT DO NOTHING``; every read-then-write runs in a
``BEGIN IMMEDIATE`` transaction, so two replicas never both win a claim or a cooldown.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from notifier.model import DEFAULT_RETENTION_S, Alert, NotificationClaim, NotificationRecord
from notifier.ports import Settled
from shared.errors import StoreUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    rule TEXT NOT NULL, key TEXT NOT NULL, subject TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, channels TEXT NOT NULL, status TEXT NOT NULL, sent TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL, updated_at REAL NOT NULL, lease_until REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1, error TEXT, expires_at REAL NOT NULL,
    PRIMARY KEY (rule, key));
CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_at);
CREATE TABLE IF NOT EXISTS cooldowns (
    rule TEXT NOT NULL, subject TEXT NOT NULL, holder TEXT NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (rule, subject));
CREATE TABLE IF NOT EXISTS last_seen (
    rule TEXT NOT NULL, subject TEXT NOT NULL, seen_at REAL NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (rule, subject));
CREATE TABLE IF NOT EXISTS occurrences (
    rule TEXT NOT NULL, subject TEXT NOT NULL, window_start REAL NOT NULL, event_id TEXT NOT NULL,
    expires_at REAL NOT NULL, PRIMARY KEY (rule, subject, window_start, event_id));
"""
_FINAL = ("sent", "suppressed", "abandoned")
_COLUMNS = (
    "rule, key, subject, severity, message, channels, status, sent, created_at, updated_at, attempts, error"
)


class SqliteStateStore:
    """The notifier's state in a SQLite file; safe across threads and the processes sharing the file."""

    def __init__(self, path: Path, *, retention_s: float = DEFAULT_RETENTION_S) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention_s = retention_s
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"state store {self.path.name} is busy: {exc}") from exc
            try:
                yield self._db
            except sqlite3.OperationalError as exc:
                self._db.execute("ROLLBACK")
                raise StoreUnavailable(f"state store {self.path.name} failed: {exc}") from exc
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def claim(self, alert: Alert, *, now: float, lease_s: float) -> NotificationClaim:
        with self._transaction() as db:
            inserted = db.execute(
                "INSERT INTO notifications (rule, key, subject, severity, message, channels, status,"
                " created_at, updated_at, lease_until, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)"
                " ON CONFLICT (rule, key) DO NOTHING",
                (
                    alert.rule,
                    alert.key,
                    alert.subject,
                    alert.severity,
                    alert.message,
                    json.dumps(list(alert.channels)),
                    now,
                    now,
                    now + lease_s,
                    now + self.retention_s,
                ),
            ).rowcount
            if inserted:
                return NotificationClaim(outcome="fresh", record=self._get(db, alert.rule, alert.key))
            resumed = db.execute(
                "UPDATE notifications SET lease_until = ?, updated_at = ?, attempts = attempts + 1,"
                " expires_at = ? WHERE rule = ? AND key = ? AND status NOT IN (?, ?, ?) AND lease_until <= ?",
                (now + lease_s, now, now + self.retention_s, alert.rule, alert.key, *_FINAL, now),
            ).rowcount
            record = self._get(db, alert.rule, alert.key)
        if resumed:
            return NotificationClaim(outcome="resumed", record=record)
        return NotificationClaim(outcome="done" if record.final else "busy", record=record)

    def extend_lease(self, rule: str, key: str, *, attempt: int, now: float, lease_s: float) -> bool:
        with self._transaction() as db:
            extended = db.execute(
                "UPDATE notifications SET lease_until = MAX(lease_until, ?) WHERE rule = ? AND key = ?"
                " AND attempts = ? AND lease_until > 0 AND status NOT IN (?, ?, ?)",
                (now + lease_s, rule, key, attempt, *_FINAL),
            ).rowcount
        return bool(extended)

    def release_cooldown(self, rule: str, subject: str, *, holder: str) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM cooldowns WHERE rule = ? AND subject = ? AND holder = ?", (rule, subject, holder)
            )

    def hold_cooldown(self, rule: str, subject: str, *, holder: str, now: float, cooldown_s: float) -> bool:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO cooldowns VALUES (?, ?, ?, ?) ON CONFLICT (rule, subject) DO UPDATE"
                " SET holder = excluded.holder, until = excluded.until WHERE cooldowns.until <= ?",
                (rule, subject, holder, now + cooldown_s, now),
            )
            (current,) = db.execute(
                "SELECT holder FROM cooldowns WHERE rule = ? AND subject = ?", (rule, subject)
            ).fetchone()
        return bool(current == holder)

    def mark_sent(self, rule: str, key: str, channel: str, *, now: float) -> None:
        with self._transaction() as db:
            (sent,) = db.execute(
                "SELECT sent FROM notifications WHERE rule = ? AND key = ?", (rule, key)
            ).fetchone()
            channels = sorted({*json.loads(sent), channel})
            db.execute(
                "UPDATE notifications SET sent = ?, updated_at = ? WHERE rule = ? AND key = ?",
                (json.dumps(channels), now, rule, key),
            )

    def settle(self, rule: str, key: str, *, status: Settled, now: float, error: str | None = None) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE notifications SET status = ?, error = ?, updated_at = ?, lease_until = 0"
                " WHERE rule = ? AND key = ?",
                (status, error, now, rule, key),
            )

    def record_sightings(self, seen: Mapping[tuple[str, str], float], *, now: float) -> None:
        if not seen:
            return
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO last_seen VALUES (?, ?, ?, ?) ON CONFLICT (rule, subject) DO UPDATE"
                " SET seen_at = excluded.seen_at, expires_at = excluded.expires_at"
                " WHERE excluded.seen_at > last_seen.seen_at",
                [(rule, subject, at, at + self.retention_s) for (rule, subject), at in seen.items()],
            )

    def count_occurrence(self, rule: str, subject: str, *, window: tuple[float, float], event_id: str) -> int:
        start, end = window
        with self._transaction() as db:
            db.execute(
                "INSERT INTO occurrences VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (rule, subject, start, event_id, end + self.retention_s),
            )
            (count,) = db.execute(
                "SELECT COUNT(*) FROM occurrences WHERE rule = ? AND subject = ? AND window_start = ?",
                (rule, subject, start),
            ).fetchone()
        return int(count)

    def silent(self, rule: str, *, before: float, now: float) -> list[tuple[str, float]]:
        with self._transaction() as db:
            rows = db.execute(
                "SELECT subject, seen_at FROM last_seen WHERE rule = ? AND seen_at < ? AND expires_at > ?"
                " ORDER BY seen_at, subject",
                (rule, before, now),
            ).fetchall()
        return [(subject, at) for subject, at in rows]

    def recent(self, *, limit: int = 50, now: float | None = None) -> list[NotificationRecord]:
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM notifications ORDER BY created_at DESC, rule DESC, key DESC"  # noqa: S608
                " LIMIT ?",
                (limit,),
            ).fetchall()
        return [_record(row) for row in rows]

    def prune(self, *, now: float) -> int:
        with self._transaction() as db:
            gone = db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,)).rowcount
            gone += db.execute("DELETE FROM cooldowns WHERE until <= ?", (now,)).rowcount
            gone += db.execute("DELETE FROM last_seen WHERE expires_at <= ?", (now,)).rowcount
            gone += db.execute("DELETE FROM occurrences WHERE expires_at <= ?", (now,)).rowcount
        return int(gone)

    def close(self) -> None:
        self._db.close()

    @staticmethod
    def _get(db: sqlite3.Connection, rule: str, key: str) -> NotificationRecord:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM notifications WHERE rule = ? AND key = ?",  # noqa: S608
            (rule, key),
        ).fetchone()
        return _record(row)


def _record(row: tuple[Any, ...]) -> NotificationRecord:
    rule, key, subject, severity, message, channels, status, sent, created, updated, attempts, error = row
    return NotificationRecord(
        rule=rule,
        key=key,
        subject=subject,
        severity=severity,
        message=message,
        channels=tuple(json.loads(channels)),
        status=status,
        sent=frozenset(json.loads(sent)),
        created_at=created,
        updated_at=updated,
        attempts=attempts,
        error=error,
    )
