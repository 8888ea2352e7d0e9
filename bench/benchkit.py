"""Pieces every benchmark script shares: publishing, waiting, service logs, memory, percentiles.

The scripts in ``bench/`` run as ``.venv/bin/python bench/<script>.py``, so this module is importable by its
bare name from any of them.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tributary.client import StackClient


def publish(client: StackClient, events: list[dict[str, Any]], threads: int = 2) -> None:
    """Publish with a few concurrent producers, as a fleet of gateways would."""
    parts = [events[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=client.publish, args=(part,), daemon=True) for part in parts]
    for w in workers:
        w.start()
    for w in workers:
        while w.is_alive():  # join in slices so Ctrl-C stops the run (and the stack) at once
            w.join(timeout=0.5)


def wait(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.5) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return False


def json_log(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a service log (other lines skipped)."""
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return lines


def _status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB (NaN if it is gone)."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory so far (the kernel's high-water mark), in MB."""
    return _status_mb(pid, "VmHWM")


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[str, float | None]:
    """``{"p50": ..., ...}`` by the nearest-rank method, rounded to ms (None when there are no values)."""
    ordered = sorted(values)
    out: dict[str, float | None] = {}
    for p in points:
        if not ordered:
            out[f"p{p}"] = None
            continue
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        out[f"p{p}"] = round(ordered[rank - 1], 3)
    return out


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int | None) -> float:
    """A process's CPU time so far (user + system, all its threads), in seconds (NaN if it is gone)."""
    if pid is None:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat(5)


def idle_rates(pids: Sequence[int | None], seconds: float) -> dict[int | None, float]:
    """Each process's CPU seconds per wall second when quiet (polls, heartbeats): the lowest rate of the
    one-second windows in ``seconds``, so work still draining from before (LocalStack keeps a core busy for
    seconds after a burst) is not taken for its idle cost."""
    windows = max(1, round(seconds))
    lowest: dict[int | None, float] = dict.fromkeys(pids, math.inf)
    for _ in range(windows):
        before, started = {pid: cpu_s(pid) for pid in pids}, time.monotonic()
        time.sleep(seconds / windows)
        wall = time.monotonic() - started
        for pid in pids:
            rate = (cpu_s(pid) - before[pid]) / wall
            lowest[pid] = min(lowest[pid], max(0.0, rate)) if not math.isnan(rate) else 0.0
    return lowest


class CpuMeter:
    """CPU seconds of named groups of processes over a window, less what they burn when idle.

    ``figures(events)`` gives CPU milliseconds per event per name (each process's idle rate from ``idle``,
    times the window, subtracted) and the cores the processes kept busy (all their CPU, idle included, over
    the window's wall time). A process missing from ``idle`` counts as idling at no cost.
    """

    def __init__(
        self, pids: dict[str, list[int | None]], idle: dict[int | None, float] | None = None
    ) -> None:
        self._pids = pids
        self._idle = idle or {}
        self._before: dict[int | None, float] = {}
        self._after: dict[int | None, float] = {}
        self._started = self._stopped = 0.0

    def _sample(self) -> dict[int | None, float]:
        return {pid: cpu_s(pid) for pids in self._pids.values() for pid in pids}

    def start(self) -> None:
        self._before, self._started = self._sample(), time.monotonic()

    def stop(self) -> None:
        self._after, self._stopped = self._sample(), time.monotonic()

    def figures(self, events: int) -> dict[str, Any]:
        wall = self._stopped - self._started
        used = {
            name: sum(self._after[pid] - self._before[pid] for pid in pids)
            for name, pids in self._pids.items()
        }
        idle = {
            name: sum(self._idle.get(pid, 0.0) for pid in pids) * wall for name, pids in self._pids.items()
        }
        return {
            "cpu_ms_per_event": {
                name: round(1000 * max(0.0, used[name] - idle[name]) / max(1, events), 3) for name in used
            },
            "cores_busy": round(sum(used.values()) / wall, 2) if wall > 0 else None,
            "window_s": round(wall, 2),
        }
