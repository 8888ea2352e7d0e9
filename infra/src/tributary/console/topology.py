"""The pipeline as the console draws it: producers → ingest → bus → per worker a rule, a queue with its
DLQ, the worker and its store; each hop with its live numbers and a state.

A worker's state, worst first: ``down`` (no replica answers), ``failing`` (its DLQ holds letters),
``backed_up`` (:data:`BACKLOG` or more messages waiting, or more than :data:`DRAIN_S` seconds of work at
the current rate), ``busy`` (anything waiting or in flight), ``ok``. The ``hot`` worker is the one whose
queue would take longest to drain, among the backed-up ones; ``slowest`` the one with the highest
end-to-end lag over the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tributary.console.cloudwatch import CloudWatchRates
from tributary.console.rates import Rates, RateTracker, mean_ms, scrape
from tributary.console.source import Description, StackSource
from tributary.console.stores import store_names
from tributary.operators.health import describe_consumes
from tributary.operators.scan import queue_counts
from tributary.operators.target import Target, TargetError, queue_name

BACKLOG = 100
DRAIN_S = 30.0
RULE_TTL_S = 30.0
STORES_TTL_S = 10.0
STATES = ("ok", "busy", "backed_up", "failing", "down")

STORED = "tributary_messages_total{outcome=stored}"
RETRIED = "tributary_messages_total{outcome=retried}"
DEAD = "tributary_messages_total{outcome=dead_lettered}"
ACCEPTED = "tributary_ingest_events_total{outcome=accepted}"
REJECTED = "tributary_ingest_events_total{outcome=rejected}"
BUS_FAILED = "tributary_ingest_events_total{outcome=bus_failed}"
REQUESTS = "tributary_ingest_requests_total"


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def worker_state(*, up: bool | None, visible: int, in_flight: int, dlq: int, per_s: float | None) -> str:
    """A worker's state (see the module docs)."""
    if up is False:
        return "down"
    if dlq > 0:
        return "failing"
    if visible >= BACKLOG or (visible and per_s is not None and visible / max(per_s, 0.1) > DRAIN_S):
        return "backed_up"
    if visible or in_flight:
        return "busy"
    return "ok"


@dataclass
class _Cache:
    """Slow-changing things looked up at most every few seconds: rule states, store names."""

    rules: dict[str, tuple[float, str | None]] = field(default_factory=dict)
    stores: tuple[float, dict[str, list[str]]] = (0.0, {})


class TopologyView:
    """Builds :meth:`snapshot` from a :class:`StackSource`; keeps the rate samples between looks."""

    def __init__(self, source: StackSource, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._clock = clock
        self._rates = RateTracker()
        self._cloudwatch = CloudWatchRates(clock=clock)
        self._cache = _Cache()

    def snapshot(self) -> dict[str, Any]:
        info = self._source.description()
        target = self._source.target(info)
        rates = self._scrape_all(info) if info.get("services") else self._from_cloudwatch(info, target)
        ingest = self._ingest(info, rates.get("ingest"))
        workers = [self._worker(info, target, name, rates.get(name)) for name in target.workers()]
        backed = [w for w in workers if w["state"] == "backed_up"]
        hot = max(backed, key=lambda w: w["drain_s"] or float("inf"), default=None)
        lagging = [w for w in workers if w["worker"]["lag_ms"] is not None]
        slowest = max(lagging, key=lambda w: w["worker"]["lag_ms"], default=None)
        for w in workers:
            w["hot"] = hot is w
            w["slowest"] = slowest is w and len(lagging) > 1
        return {
            "where": target.where,
            "emulator": info.get("emulator"),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "ingest": ingest,
            "bus": {
                "name": info["bus_name"],
                "events_per_s": ingest["accepted_per_s"],
            },
            "workers": workers,
            "hot": hot["service"] if hot else None,
            "slowest": slowest["service"] if slowest and len(lagging) > 1 else None,
            "rates_from": "metrics" if info.get("services") else "cloudwatch",
            "rates_error": None if info.get("services") else self._cloudwatch.error,
        }

    # -- parts ---------------------------------------------------------------------------------------------

    def _scrape_all(self, info: Description) -> dict[str, Rates | None]:
        """Each service's rates, scraped side by side (``None``: no replica answered)."""
        services: dict[str, Any] = info.get("services") or {}
        urls = {name: list(s.get("urls") or [s["url"]]) for name, s in services.items()}
        if not urls:
            return {}

        def one(name: str) -> tuple[str, Rates | None]:
            counters = scrape(urls[name], get=self._source.http.get)
            if counters is None:
                return name, None
            return name, self._rates.observe(name, self._clock(), counters)

        with ThreadPoolExecutor(max_workers=min(8, len(urls)), thread_name_prefix="scrape") as pool:
            return dict(pool.map(one, sorted(urls)))

    def _from_cloudwatch(self, info: Description, target: Target) -> dict[str, Rates | None]:
        """A deployed stack's rates: its services' EMF metrics in CloudWatch (no lifetime totals)."""
        ingest = "ingest" if info.get("ingest_url") else None
        found = self._cloudwatch.get(target.client("cloudwatch"), workers=target.workers(), ingest=ingest)
        return dict(found)

    def _ingest(self, info: Description, rates: Rates | None) -> dict[str, Any]:
        known = "ingest" in (info.get("services") or {})
        out: dict[str, Any] = {
            "url_known": bool(info.get("ingest_url")),
            "up": None if not known else rates is not None,
            "accepted_per_s": None,
            "rejected_per_s": None,
            "requests_per_s": None,
            "client_errors_per_s": None,
            "server_errors_per_s": None,
            "accepted_total": None,
            "rejected_total": None,
            "latency_ms": None,
        }
        if rates is None:
            return out
        statuses = {k: v for k, v in rates.totals.items() if k.startswith(REQUESTS + "{")}

        def per_s(prefix: str) -> float | None:
            if rates.per_s is None or not rates.totals_known:  # no status counts in CloudWatch
                return None
            wanted = f"{REQUESTS}{{status={prefix}"
            return sum(rates.per_s.get(k, 0.0) for k in statuses if k.startswith(wanted))

        out.update(
            accepted_per_s=_round(rates.rate(ACCEPTED)),
            rejected_per_s=_round(_sum(rates.rate(REJECTED), rates.rate(BUS_FAILED))),
            requests_per_s=_round(per_s("")),
            client_errors_per_s=_round(per_s("4")),
            server_errors_per_s=_round(per_s("5")),
            accepted_total=int(rates.totals.get(ACCEPTED, 0)) if rates.totals_known else None,
            rejected_total=(
                int(rates.totals.get(REJECTED, 0) + rates.totals.get(BUS_FAILED, 0))
                if rates.totals_known
                else None
            ),
            latency_ms=mean_ms(rates, "tributary_ingest_request_seconds"),
        )
        return out

    def _worker(self, info: Description, target: Target, name: str, rates: Rates | None) -> dict[str, Any]:
        manifest = self._source.manifest(name)
        services: dict[str, Any] = info.get("services") or {}
        known = name in services
        sqs = target.client("sqs")
        queue: dict[str, Any] = {"name": None, "visible": None, "in_flight": None, "delayed": None}
        dlq: dict[str, Any] = {"name": None, "depth": None}
        error = None
        try:
            pair = target.queue_pair(name)
            counts, dead = queue_counts(sqs, pair.url), queue_counts(sqs, pair.dlq_url)
            queue = {
                "name": pair.name,
                "visible": counts.visible,
                "in_flight": counts.in_flight,
                "delayed": counts.delayed,
            }
            dlq = {"name": pair.dlq_name, "depth": dead.total}
        except (TargetError, ClientError, BotoCoreError) as exc:
            error = str(exc)
        per_s = rates.rate(STORED) if rates else None
        failed = _sum(rates.rate(RETRIED), rates.rate(DEAD)) if rates else None
        visible = queue["visible"] or 0
        state = worker_state(
            up=(rates is not None) if known else None,
            visible=visible,
            in_flight=queue["in_flight"] or 0,
            dlq=dlq["depth"] or 0,
            per_s=per_s,
        )
        drain = visible / per_s if visible and per_s else (None if not visible else float("inf"))
        return {
            "service": name,
            "consumes": describe_consumes(manifest) if manifest else [],
            "rule": {"name": queue_name(target.bus_name, name), "state": self._rule_state(target, name)},
            "queue": queue,
            "dlq": dlq,
            "worker": {
                "up": (rates is not None) if known else None,
                "replicas": len(services.get(name, {}).get("pids") or []) if known else None,
                "processed_per_s": _round(per_s),
                "failed_per_s": _round(failed),
                "processed_total": int(rates.totals.get(STORED, 0)) if rates and rates.totals_known else None,
                "dead_lettered_total": int(rates.totals.get(DEAD, 0))
                if rates and rates.totals_known
                else None,
                "store_ms": mean_ms(rates, "tributary_store_seconds") if rates else None,
                "lag_ms": mean_ms(rates, "tributary_end_to_end_lag_seconds") if rates else None,
            },
            "store": {"names": self._stores(info).get(name, [])},
            "state": state,
            "drain_s": None if drain is None or drain == float("inf") else round(drain, 1),
            "error": error,
        }

    def _rule_state(self, target: Target, service: str) -> str | None:
        now = self._clock()
        cached = self._cache.rules.get(service)
        if cached and now - cached[0] < RULE_TTL_S:
            return cached[1]
        name = queue_name(target.bus_name, service)
        try:
            state: str | None = str(
                target.client("events").describe_rule(Name=name, EventBusName=target.bus_name).get("State")
            )
        except (ClientError, BotoCoreError):
            state = "missing"
        self._cache.rules[service] = (now, state)
        return state

    def _stores(self, info: Description) -> dict[str, list[str]]:
        """Store names per worker, found once and kept; the tail is read again (at most every
        :data:`STORES_TTL_S`) only while some worker's are unknown."""
        now = self._clock()
        at, names = self._cache.stores
        workers = set(info.get("queues") or {})
        if workers <= set(names) or (at and now - at < STORES_TTL_S):
            return names
        traces = info.get("traces")
        found = store_names(Path(traces)) if traces else {}
        self._cache.stores = (now, {**found, **names})
        return self._cache.stores[1]


def _sum(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


__all__ = ["STATES", "TopologyView", "worker_state"]
