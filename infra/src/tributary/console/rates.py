"""Live rates from the counters every service serves on ``/metrics`` (Prometheus text).

The console scrapes a service's replicas when the page asks, sums their counters, and keeps the last
samples of each service for :data:`WINDOW_S` seconds: a rate is the growth since the oldest sample still in
that window. Nothing is scraped while nobody looks. A counter that went down (a replica restarted) counts as
no growth rather than as a negative rate.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

WINDOW_S = 15.0
MIN_SPAN_S = 0.5  # two samples closer than this make no rate

Counters = dict[str, float]


def counter_key(name: str, labels: Mapping[str, str]) -> str:
    """``tributary_messages_total{outcome=stored}``: the sample's name and its labels but ``service``."""
    kept = ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "service")
    return f"{name}{{{kept}}}" if kept else name


def parse_counters(text: str) -> Counters:
    """Every ``tributary_*`` sample of a ``/metrics`` page, keyed by :func:`counter_key`.

    Raises:
        ValueError: the text is not in the Prometheus format.
    """
    out: Counters = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("tributary_") and not sample.name.endswith("_created"):
                key = counter_key(sample.name, sample.labels)
                out[key] = out.get(key, 0.0) + float(sample.value)
    return out


def scrape(urls: Iterable[str], *, get: Callable[[str], httpx.Response]) -> Counters | None:
    """The summed counters of every replica that answers; ``None`` when none does."""
    total: Counters = {}
    answered = False
    for url in urls:
        try:
            response = get(url.rstrip("/") + "/metrics")
            if response.status_code != 200:
                continue
            counters = parse_counters(response.text)
        except (httpx.HTTPError, ValueError):
            continue
        answered = True
        for key, value in counters.items():
            total[key] = total.get(key, 0.0) + value
    return total if answered else None


@dataclass(frozen=True, kw_only=True)
class Rates:
    """A service's counters now, and their growth per second over the window (``None``: too soon).
    ``totals_known`` is false where only rates exist (CloudWatch keeps no lifetime totals)."""

    totals: Counters
    per_s: Counters | None
    span_s: float
    totals_known: bool = True

    def rate(self, key: str) -> float | None:
        return None if self.per_s is None else self.per_s.get(key, 0.0)

    def growth(self, key: str) -> float | None:
        """How much ``key`` grew over the window (for means: Δsum / Δcount)."""
        return None if self.per_s is None else self.per_s.get(key, 0.0) * self.span_s


class RateTracker:
    """The recent samples of each service's counters; thread-safe."""

    def __init__(self, *, window_s: float = WINDOW_S) -> None:
        self._window_s = window_s
        self._samples: dict[str, deque[tuple[float, Counters]]] = {}
        self._lock = threading.Lock()

    def observe(self, service: str, now: float, counters: Counters) -> Rates:
        """Record ``counters`` of ``service`` at ``now`` (monotonic seconds); the rates since the window's
        oldest sample."""
        with self._lock:
            samples = self._samples.setdefault(service, deque())
            while len(samples) > 1 and now - samples[1][0] >= self._window_s:
                samples.popleft()  # keep one sample at least a window old as the base
            samples.append((now, counters))
            base_at, base = samples[0]
        span = now - base_at
        if span < MIN_SPAN_S:
            return Rates(totals=counters, per_s=None, span_s=0.0)
        per_s = {key: max(0.0, value - base.get(key, 0.0)) / span for key, value in counters.items()}
        return Rates(totals=counters, per_s=per_s, span_s=span)


def mean_ms(rates: Rates, histogram: str) -> float | None:
    """The mean of a seconds histogram over the window, in ms (``None``: nothing observed in it)."""
    count = rates.growth(f"{histogram}_count")
    total = rates.growth(f"{histogram}_sum")
    if not count or total is None:
        return None
    return round(total / count * 1000, 1)
