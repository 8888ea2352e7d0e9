"""Pieces every benchmark script shares: publishing, waiting, service logs, memory, percentiles.

The scripts in ``bench/`` run as ``.venv/bin/python bench/<script>.py``, so this module is importable by its
bare name from any of them.
"""

from __future__ import annotations

import json
import math
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
