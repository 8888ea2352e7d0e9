"""The pipeline snapshot over moto's SQS and EventBridge and fake ``/metrics`` pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.tests.console.conftest import FakeHttp, metrics_page
from infra.tests.operators.conftest import reason_attributes
from shared.testkit.envelopes import FakeClock, envelope, rule_body
from tributary.console.source import StackSource
from tributary.console.topology import BACKLOG, TopologyView, worker_state


@pytest.mark.parametrize(
    ("kwargs", "state"),
    [
        ({"up": False, "visible": 0, "in_flight": 0, "dlq": 3, "per_s": None}, "down"),
        ({"up": True, "visible": 0, "in_flight": 0, "dlq": 1, "per_s": 5.0}, "failing"),
        ({"up": True, "visible": BACKLOG, "in_flight": 0, "dlq": 0, "per_s": 500.0}, "backed_up"),
        ({"up": True, "visible": 50, "in_flight": 0, "dlq": 0, "per_s": 1.0}, "backed_up"),
        ({"up": True, "visible": 5, "in_flight": 10, "dlq": 0, "per_s": 10.0}, "busy"),
        ({"up": None, "visible": 0, "in_flight": 0, "dlq": 0, "per_s": None}, "ok"),
    ],
)
def test_worker_state_worst_first(kwargs: dict[str, Any], state: str) -> None:
    assert worker_state(**kwargs) == state


def _send(sqs: Any, url: str, count: int, **attributes: Any) -> None:
    for start in range(0, count, 10):
        entries = [
            {"Id": str(i), "MessageBody": rule_body(envelope()), "MessageAttributes": attributes}
            for i in range(min(10, count - start))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def test_snapshot_has_rates_depths_and_the_backed_up_hop(
    source: StackSource, http: FakeHttp, description: dict[str, Any], sqs: Any
) -> None:
    """Rates come from the growth of ingest's and each worker's counters; the queue with 120 waiting is
    the hot one; the DLQ holding a letter makes its worker failing."""
    ingest = {'tributary_ingest_events_total{outcome="accepted"}': 100.0}
    archiver = {'tributary_messages_total{outcome="stored"}': 10.0}
    http.hosts |= {"ingest.test": metrics_page(ingest), "archiver.test": metrics_page(archiver)}
    # probe's host is missing: its worker is down
    clock = FakeClock(100.0)
    view = TopologyView(source, clock=clock)
    first = view.snapshot()
    assert first["ingest"]["accepted_total"] == 100 and first["ingest"]["accepted_per_s"] is None

    _send(sqs, description["queues"]["archiver"]["url"], 120)
    _send(sqs, description["queues"]["probe"]["dlq_url"], 1, **reason_attributes("contract"))
    ingest['tributary_ingest_events_total{outcome="accepted"}'] = 150.0
    archiver['tributary_messages_total{outcome="stored"}'] = 30.0
    clock.advance(5)
    snap = view.snapshot()

    assert snap["ingest"]["accepted_per_s"] == 10.0
    assert snap["bus"] == {"name": "tributary", "events_per_s": 10.0}
    workers = {w["service"]: w for w in snap["workers"]}
    archive = workers["archiver"]
    assert archive["worker"]["processed_per_s"] == 4.0
    assert archive["queue"]["visible"] == 120 and archive["state"] == "backed_up"
    assert archive["drain_s"] == 30.0 and archive["hot"] and snap["hot"] == "archiver"
    assert archive["rule"] == {"name": "tributary-archiver", "state": "ENABLED"}
    probe = workers["probe"]
    assert probe["dlq"]["depth"] == 1 and probe["worker"]["up"] is False and probe["state"] == "down"
    assert json.dumps(snap)  # all of it is JSON


def test_a_worker_without_a_queue_says_why(
    source: StackSource, description: dict[str, Any], sqs: Any
) -> None:
    """A queue deleted under a running console is an error on its hop, not a failed snapshot."""
    sqs.delete_queue(QueueUrl=description["queues"]["probe"]["url"])
    probe = next(w for w in TopologyView(source).snapshot()["workers"] if w["service"] == "probe")
    assert probe["error"] and probe["queue"]["visible"] is None


def test_a_deployed_stack_takes_its_rates_from_cloudwatch(
    source: StackSource, description: dict[str, Any], aws: None
) -> None:
    """With no service URLs (a deployed stack), rates come from the EMF metrics in CloudWatch over the last
    five minutes; there are no lifetime totals."""
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    minute_ago = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    for name, service, value in (("Processed", "archiver", 600.0), ("Accepted", "ingest", 900.0)):
        cloudwatch.put_metric_data(
            Namespace="Tributary",
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": "service", "Value": service}],
                    "Timestamp": minute_ago,
                    "Value": value,
                    "Unit": "Count",
                }
            ],
        )
    del description["services"]
    snap = TopologyView(source).snapshot()
    assert snap["rates_from"] == "cloudwatch" and snap["rates_error"] is None
    assert snap["ingest"]["accepted_per_s"] == 3.0 and snap["ingest"]["accepted_total"] is None
    archiver = next(w for w in snap["workers"] if w["service"] == "archiver")
    assert archiver["worker"]["processed_per_s"] == 2.0 and archiver["worker"]["processed_total"] is None
    assert archiver["worker"]["up"] is None  # nothing to ask on AWS
