"""Tests of the SQLite state store beyond the port contract: one file shared by replicas."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from notifier.adapters.sqlite import SqliteStateStore
from notifier.model import Alert
from shared.errors import RetryableError

NOW = 1_750_000_000.0


def _alert(key: str) -> Alert:
    return Alert(
        rule="hot", key=key, subject="dev-1", severity="info", message="m", channels=("log",), cooldown_s=0
    )


def test_replicas_sharing_the_file_claim_each_alert_once(tmp_path: Path) -> None:
    """Two stores on one file (two replicas), racing from threads: every alert is fresh exactly once."""
    stores = [SqliteStateStore(tmp_path / "state.sqlite3") for _ in range(2)]
    fresh: list[str] = []
    lock = threading.Lock()

    def claim_all(store: SqliteStateStore) -> None:
        for i in range(200):
            claim = store.claim(_alert(f"e-{i}"), now=NOW, lease_s=60)
            if claim.outcome == "fresh":
                with lock:
                    fresh.append(claim.record.key)

    threads = [threading.Thread(target=claim_all, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(fresh) == sorted(f"e-{i}" for i in range(200))
    for store in stores:
        store.close()


def test_state_survives_a_restart(tmp_path: Path) -> None:
    """A new process on the same file sees what the last one settled."""
    first = SqliteStateStore(tmp_path / "state.sqlite3")
    first.claim(_alert("e-1"), now=NOW, lease_s=60)
    first.settle("hot", "e-1", status="sent", now=NOW)
    first.close()
    second = SqliteStateStore(tmp_path / "state.sqlite3")
    assert second.claim(_alert("e-1"), now=NOW + 1, lease_s=60).outcome == "done"
    second.close()


def test_a_locked_file_is_a_retryable_outage(tmp_path: Path) -> None:
    """Another writer holding the file past the timeout: RetryableError, not a crash."""
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    store._db.execute("PRAGMA busy_timeout = 50")
    blocker = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(RetryableError, match="busy"):
            store.claim(_alert("e-1"), now=NOW, lease_s=60)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.claim(_alert("e-1"), now=NOW, lease_s=60).outcome == "fresh"
    store.close()
