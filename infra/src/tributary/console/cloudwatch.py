"""Rates for a stack whose services' ``/metrics`` the console cannot reach (a deployed one): the same
numbers from CloudWatch, where the services' EMF lines become metrics (namespace ``Tributary``, dimension
``service``), over the last :data:`WINDOW_S` seconds.

They are shaped as :class:`~tributary.console.rates.Rates` under the keys the ``/metrics`` counters have, so
the topology reads them alike. CloudWatch keeps no lifetime totals: those stay unknown. One
``GetMetricData`` call covers every service, at most once per :data:`REFRESH_S` (its metrics are per
minute anyway, and each call is billed per metric).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tributary.console.rates import Rates

NAMESPACE = "Tributary"  # shared.metrics.NAMESPACE
WINDOW_S = 300
REFRESH_S = 60.0

# EMF metric → (statistic, /metrics key it stands for, factor to that key's unit)
WORKER_METRICS = (
    ("Processed", "Sum", "tributary_messages_total{outcome=stored}", 1.0),
    ("Retried", "Sum", "tributary_messages_total{outcome=retried}", 1.0),
    ("DeadLettered", "Sum", "tributary_messages_total{outcome=dead_lettered}", 1.0),
    ("StoreLatency", "Sum", "tributary_store_seconds_sum", 0.001),
    ("StoreLatency", "SampleCount", "tributary_store_seconds_count", 1.0),
    ("EndToEndLag", "Sum", "tributary_end_to_end_lag_seconds_sum", 0.001),
    ("EndToEndLag", "SampleCount", "tributary_end_to_end_lag_seconds_count", 1.0),
)
INGEST_METRICS = (
    ("Accepted", "Sum", "tributary_ingest_events_total{outcome=accepted}", 1.0),
    ("Rejected", "Sum", "tributary_ingest_events_total{outcome=rejected}", 1.0),  # bus failures included
    ("RequestLatency", "Sum", "tributary_ingest_request_seconds_sum", 0.001),
    ("RequestLatency", "SampleCount", "tributary_ingest_request_seconds_count", 1.0),
)


def cloudwatch_rates(
    cloudwatch: Any, *, workers: Sequence[str], ingest: str | None, now: datetime | None = None
) -> dict[str, Rates]:
    """Each service's rates over the last :data:`WINDOW_S` seconds.

    Raises:
        ClientError, BotoCoreError: CloudWatch refused or could not be reached.
    """
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)  # whole minutes only
    wanted = [(w, *m) for w in workers for m in WORKER_METRICS]
    if ingest:
        wanted += [(ingest, *m) for m in INGEST_METRICS]
    queries = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [{"Name": "service", "Value": service}],
                },
                "Period": WINDOW_S,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for i, (service, metric, stat, _, _) in enumerate(wanted)
    ]
    values: dict[str, float] = {}
    for start in range(0, len(queries), 500):  # GetMetricData takes 500 queries per call
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": queries[start : start + 500],
                "StartTime": end - timedelta(seconds=WINDOW_S),
                "EndTime": end,
            }
            if token:
                kwargs["NextToken"] = token
            answer = cloudwatch.get_metric_data(**kwargs)
            for result in answer.get("MetricDataResults", []):
                values[result["Id"]] = values.get(result["Id"], 0.0) + sum(result.get("Values", []))
            token = answer.get("NextToken")
            if not token:
                break
    per_service: dict[str, dict[str, float]] = {}
    for i, (service, _, _, key, factor) in enumerate(wanted):
        per_service.setdefault(service, {})[key] = values.get(f"m{i}", 0.0) * factor / WINDOW_S
    return {
        service: Rates(totals={}, per_s=per_s, span_s=float(WINDOW_S), totals_known=False)
        for service, per_s in per_service.items()
    }


class CloudWatchRates:
    """:func:`cloudwatch_rates`, asked at most every :data:`REFRESH_S`; ``{}`` when CloudWatch fails (the
    page then shows no rates rather than an error)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at: float | None = None
        self._rates: dict[str, Rates] = {}
        self.error: str | None = None
        self._lock = threading.Lock()

    def get(self, cloudwatch: Any, *, workers: Sequence[str], ingest: str | None) -> dict[str, Rates]:
        with self._lock:
            now = self._clock()
            if self._at is not None and now - self._at < REFRESH_S:
                return self._rates
            self._at = now
            try:
                self._rates = cloudwatch_rates(cloudwatch, workers=workers, ingest=ingest)
                self.error = None
            except (ClientError, BotoCoreError) as exc:
                self._rates, self.error = {}, f"CloudWatch: {exc}"
            return self._rates
