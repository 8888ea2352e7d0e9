"""Real faults for the fault suite: a paused process, a locked DuckDB file, a crash-looping restart.

Nothing here imitates a failure: each helper makes the real part fail the way it does in production (a
store server that stops answering, a store file another process holds, a worker killed while it holds
messages), and undoes it on leaving its block, even when the test fails inside.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tributary.client import StackClient
from tributary.processes import ProcessStartError
from tributary.stack import Stack


@contextmanager
def paused(pid: int) -> Iterator[None]:
    """SIGSTOP ``pid`` for the block (the process keeps its sockets and answers nothing), then SIGCONT."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def duckdb_locked(path: Path) -> Iterator[None]:
    """Hold ``path``'s DuckDB write lock for the block, as a second read-write process would."""
    connection = duckdb.connect(str(path))
    try:
        yield
    finally:
        connection.close()


def in_flight(client: StackClient, service: str) -> int:
    """Messages of ``service``'s queue that a consumer holds right now."""
    url = client.description["queues"][service]["url"]
    attrs = client.aws("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessagesNotVisible"])


def restart_until_healthy(stack: Stack, service: str, *, timeout_s: float, pause_s: float = 1.0) -> int:
    """Restart ``service`` until it comes up healthy, as an orchestrator restarts a crashing container;
    returns how many starts failed.

    Raises:
        ProcessStartError: it was still failing after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    failed = 0
    while True:
        try:
            stack.restart(service)
            return failed
        except ProcessStartError:
            failed += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(pause_s)


def falkordb_pid(stack: Stack) -> int:
    """The embedded FalkorDB server's pid (graph_writer's child)."""
    path = stack.data_dir / "services" / "graph_writer" / "falkordb" / "falkordb.pid"
    return int(path.read_text(encoding="utf-8").strip())


def series_file(stack: Stack) -> Path:
    """timeseries_writer's DuckDB file."""
    return stack.data_dir / "services" / "timeseries_writer" / "series.duckdb"
