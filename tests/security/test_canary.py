"""A canary in every field of every contract's sample event never leaves a process: not in a log line, a
dead letter's attributes or an HTTP error body.

Each sample is sent once per leaf of its ``data`` with that leaf replaced by the canary, once per object
with an extra canary field, and once with the canary as ``source``: through ingest's API (as an
authenticated producer), and, as envelopes, through every worker's handler under the shared runtime (the
error paths, where input values used to leak, are where most variants go). Logs are captured from
structlog and the standard library alike.

By design, alert subjects are logged (``subject`` on the notifier's ``alert_*`` lines: the rule's author
names alerts by an identifier such as a device id), so the notifier's rules here take their subject from
a field and the test allows the canary in exactly that place.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from archiver.handler import ArchiveWriter
from archiver.testing import InMemoryArchiveStore
from contracts import Envelope, new_event_id
from graph_writer.handler import GraphWriter
from graph_writer.testing import InMemoryGraphStore
from ingest.app import create_app
from ingest.auth import Authenticator
from ingest.domain import Limits
from ingest.testing import InMemoryPublisher
from notifier.handler import Notifier
from notifier.manifest import MANIFEST as NOTIFIER
from notifier.rules.loader import parse_rules
from notifier.testing import InMemoryChannel, InMemoryStateStore
from shared.credential_stores import InMemoryCredentialStore
from shared.credentials import CredentialDocument
from shared.outcomes import RetryPolicy
from shared.processing import BatchHandler, BatchProcessor
from shared.testing import InMemoryLedger, InMemoryQueue
from shared.testkit.envelopes import FakeClock, rule_body
from shared.testkit.samples import all_samples
from shared.upcasting import upcaster_for
from timeseries_writer.domain import TimeWindow
from timeseries_writer.handler import SeriesWriter
from timeseries_writer.testing import InMemorySeriesStore

CANARY = "CANARYq7zx"
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def _variants(node: Any, put: Callable[[Any], Any]) -> Iterator[Any]:
    """Copies of the document ``put`` rebuilds, with the canary in each leaf and as each object's extra
    field in turn."""
    if isinstance(node, dict):
        yield put(node | {"canary_field": CANARY})
        for key, value in node.items():
            yield from _variants(value, lambda v, key=key: put(node | {key: v}))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _variants(value, lambda v, i=i: put([*node[:i], v, *node[i + 1 :]]))
    else:
        yield put(CANARY)


def canary_events() -> list[dict[str, Any]]:
    """Every sample with the canary in each field in turn, as producers submit events (no ids)."""
    out = []
    for sample in all_samples():
        base = {k: v for k, v in sample.items() if k != "id"}
        out += list(_variants(sample["data"], lambda data, base=base: base | {"data": data}))
        out.append(base | {"source": CANARY})
    return out


def _leaks(logs: list[dict[str, Any]], caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [
        json.dumps({k: v for k, v in entry.items() if not _is_alert_subject(entry, k)}, default=str)
        for entry in logs
    ]
    lines += [record.getMessage() for record in caplog.records]
    return [line for line in lines if CANARY in line]


def _is_alert_subject(entry: dict[str, Any], key: str) -> bool:
    return key == "subject" and str(entry.get("event", "")).startswith("alert_")


def test_the_canary_set_covers_every_contract() -> None:
    """Every sample contributes variants, and there are many."""
    events = canary_events()
    assert {e["type"] for e in events} == {s["type"] for s in all_samples()}
    assert len(events) > 60


def test_ingest_never_echoes_the_canary(caplog: pytest.LogCaptureFixture) -> None:
    """Every variant through POST /v1/events: no canary in a response body (errors included) or a log."""
    doc, key = CredentialDocument().with_key("canary", sources=("*",), types=("*",), platform=True)
    publisher = InMemoryPublisher()
    app = create_app(
        publisher=publisher,
        limits=Limits(max_events=500),
        max_body_bytes=16 * 1024 * 1024,
        authenticator=Authenticator(InMemoryCredentialStore(doc)),
    )
    events = canary_events()
    bodies = []
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs, TestClient(app) as client:
        for start in range(0, len(events), 100):
            response = client.post(
                "/v1/events",
                content=json.dumps({"events": events[start : start + 100]}),
                headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
            )
            assert response.status_code == 202
            bodies.append(response.text)
    assert sum(len(json.loads(b)["rejected"]) for b in bodies) > 30  # the error paths were taken
    assert [b for b in bodies if CANARY in b] == []
    assert _leaks(logs, caplog) == []


NOTIFIER_RULES = """\
defaults: {channels: [hook], cooldown: 0s}
webhooks:
  hook: {url: "http://127.0.0.1:9/hook", secret: s, allow_private: true}
rules:
""" + "".join(
    f'  - {{name: r{n}, match: {{type: {t}}}, subject: "{{data.{f}}}", message: "{{data.{f}}}"}}\n'
    for n, (t, f) in enumerate(
        [("sensor.reading", "device_id"), ("cat.sighting", "cat_id"), ("trade.completed", "trade_id")]
    )
)


def _handlers() -> dict[str, tuple[BatchHandler, Any]]:
    rules = parse_rules(NOTIFIER_RULES, subscriptions=NOTIFIER.consumes)
    clock = FakeClock(start=NOW.timestamp())
    from graph_writer.manifest import MANIFEST as GRAPH
    from timeseries_writer.manifest import MANIFEST as SERIES

    return {
        "graph_writer": (GraphWriter(store=InMemoryGraphStore()), GRAPH.consumes),
        "timeseries_writer": (
            SeriesWriter(store=InMemorySeriesStore(), window=TimeWindow(), clock=lambda: NOW),
            SERIES.consumes,
        ),
        "archiver": (
            ArchiveWriter(
                store=InMemoryArchiveStore(), ledger=InMemoryLedger(clock=clock), lease_s=60, clock=clock
            ),
            (),
        ),
        "notifier": (
            Notifier(
                rules=rules,
                store=InMemoryStateStore(),
                channels={"hook": InMemoryChannel("hook")},
                lease_s=60,
                clock=clock,
            ),
            NOTIFIER.consumes,
        ),
    }


@pytest.mark.parametrize("service", ["graph_writer", "timeseries_writer", "archiver", "notifier"])
def test_workers_never_log_or_dead_letter_the_canary(service: str, caplog: pytest.LogCaptureFixture) -> None:
    """Every variant as an envelope through the service's handler under the runtime: the canary is in no
    log line and no dead letter's attributes."""
    handler, consumes = _handlers()[service]
    queue = InMemoryQueue()
    for event in canary_events():
        envelope = Envelope.model_validate(event | {"id": new_event_id(), "ingested_at": NOW, "trace": None})
        queue.send(rule_body(envelope))
    processor = BatchProcessor(
        queue=queue,
        handler=handler,
        service=service,
        policy=RetryPolicy(max_attempts=1),
        upcast=upcaster_for(consumes) if consumes else upcaster_for(()),
    )
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        for _ in range(1000):
            if not queue.depth:
                break
            processor.process(queue.receive(max_messages=10, wait_s=0))
    assert queue.depth == 0
    if service in ("graph_writer", "timeseries_writer"):
        assert queue.dead, "the error paths were taken"
    assert [d.attributes for d in queue.dead if CANARY in json.dumps(d.attributes)] == []
    assert _leaks(logs, caplog) == []
