"""When each published event became visible in each store, observed from outside the services.

- :class:`ArchiveTracker` reads every new archive object once: the exact time each id first appears and how
  many times it was archived;
- :class:`CountTracker` samples a store's count (graph edges, series points, events the notifier has taken
  off its queue): the ``k``-th event published counts as stored at the first sample whose count covers it,
  which assumes the store takes events roughly in publish order (true within a batching window);
- :class:`Poller` samples the trackers on one thread at a fixed interval, so latency resolution is that
  interval (0.25 s by default).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Any, Protocol


class Tracker(Protocol):
    def sample(self, now: float) -> None: ...


class ArchiveTracker:
    """New objects under ``prefix`` of the archive bucket, each read once."""

    def __init__(self, s3: Any, bucket: str, prefix: str = "events/") -> None:
        self._s3, self._bucket, self._prefix = s3, bucket, prefix
        self._keys: set[str] = set()
        self.first_seen: dict[str, float] = {}
        self.copies: Counter[str] = Counter()

    def sample(self, now: float) -> None:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=self._prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                if obj["Key"] in self._keys:
                    continue
                self._keys.add(obj["Key"])
                body = self._s3.get_object(Bucket=self._bucket, Key=obj["Key"])["Body"].read()
                for line in gzip.decompress(body).splitlines():
                    if line:
                        id_ = json.loads(line)["id"]
                        self.copies[id_] += 1
                        self.first_seen.setdefault(id_, now)

    def latencies(self, sent: dict[str, float]) -> list[float]:
        """Seconds from publish to first archived, for the ids in ``sent`` that were archived."""
        return [self.first_seen[i] - t for i, t in sent.items() if i in self.first_seen]


class CountTracker:
    """Samples of ``count()`` (relative to its value when the tracker was made)."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count
        self._base = count()
        self.samples: list[tuple[float, int]] = []

    def sample(self, now: float) -> None:
        self.samples.append((now, self._count() - self._base))

    @property
    def latest(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def latencies(self, sent: Sequence[float], weights: Sequence[int] | None = None) -> list[float]:
        """Per event (in publish order, sent at ``sent[k]``, adding ``weights[k]`` to the count): the first
        sample covering it minus its send time."""
        needed = list(accumulate(weights if weights is not None else [1] * len(sent)))
        out: list[float] = []
        cursor = 0
        for when, count in self.samples:
            while cursor < len(needed) and count >= needed[cursor]:
                out.append(when - sent[cursor])
                cursor += 1
        return out


class Poller:
    """Samples trackers every ``interval_s`` on a background thread until :meth:`stop`."""

    def __init__(self, trackers: Sequence[Tracker], interval_s: float = 0.25) -> None:
        self._trackers = trackers
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-poller", daemon=True)
        self.errors: list[str] = []

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_all()
            self._stop.wait(self._interval_s)

    def sample_all(self) -> None:
        for tracker in self._trackers:
            try:
                tracker.sample(time.monotonic())
            except Exception as exc:  # noqa: BLE001 - a failed sample is retried next tick, and reported
                self.errors.append(f"{type(tracker).__name__}: {exc}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.sample_all()
