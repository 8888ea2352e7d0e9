"""The fault suite: mixed events through every fault the platform promises to survive (MiniStack).

One stack (ingest and the four workers, every service's AWS calls through the AWS proxy, 30 s visibility
timeouts, no DLQ watcher) and one run, the faults injected in sequence while the events flow:

1. the notifier's ``cats`` webhook answers 500 until the outage below ends (a fault setting: alerts that
   exhaust their attempts meanwhile are dead-lettered);
2. archiver, graph_writer and notifier each SIGKILLed while holding messages, then restarted (their
   messages come back from SQS after the visibility timeout);
3. the emulator throttling for 6 s: a share of PutEvents, S3 PutObject, SQS ReceiveMessage and
   DeleteMessageBatch calls answered with each protocol's throttling error, by the AWS proxy;
4. a 12 s store outage: graph_writer's FalkorDB server SIGSTOPped, and timeseries_writer SIGKILLed while
   holding messages, then restarted while another process holds its DuckDB file's write lock, so every
   start fails until the lock goes; meanwhile a tenth of the events are published again with the same ids
   (a producer resending);
5. every kind of poison sent straight to every worker's queue: valid JSON of the wrong shape, nesting
   100,000 deep, a 5,000-digit number, a body of almost 256 KiB, bytes that are not UTF-8 (as SQS can
   carry them: Latin-1 text), and an envelope timed in year 1 (+01:00) in one batch with nine valid
   envelopes (copies of published readings: stored again idempotently, so the stores' checks hold);
6. once every queue is drained, the notifier's dead-lettered alerts redriven with the operator CLI.

Then every store is compared with one delivery of the events: archive objects by event id, the graph's node
and relationship counts, series point counts and sums per metric and site, and the notifier's log; every
DLQ holds exactly its poison, each with its reason and within SQS's limits (no innocent batch-mate, no
message of the store outage: the workers' retry budget is cut to a few seconds, so the 12 s outage lasts
several budgets); no service died unplanned. The suite runs on MiniStack only: it is the emulator fast
enough for the suite's time budget (and for the issue's 10,000 events, ``TRIBUTARY_E2E_SCALE=10``).
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from archiver.manifest import MANIFEST as ARCHIVER
from contracts import Envelope
from graph_writer.domain import plan, rows_of
from graph_writer.manifest import MANIFEST as GRAPH
from graph_writer.testing import InMemoryGraphStore
from ingest.manifest import MANIFEST as INGEST
from notifier.manifest import MANIFEST as NOTIFIER
from notifier.testing import WebhookReceiver
from shared.boundedjson import loads
from shared.errors import ContractError
from shared.testkit.letters import failure_of
from shared.testkit.waiting import wait_for
from shared.upcasting import upcaster_for
from tests.e2e.conftest import e2e_emulators, start_stack
from tests.support.faults import (
    duckdb_locked,
    falkordb_pid,
    in_flight,
    paused,
    restart_until_healthy,
    series_file,
)
from tests.support.volumes import volume
from timeseries_writer.manifest import MANIFEST as SERIES
from tributary.client import StackClient
from tributary.processes import ProcessStartError
from tributary.producers import domain_events
from tributary.stack import Stack

pytestmark = [pytest.mark.fault, pytest.mark.timeout(600)]

EVENTS = volume("fault", "ministack")  # 1,000; TRIBUTARY_E2E_SCALE=10 gives the 10,000
PUBLISH_S = 30.0  # the stream spans the kills, the throttling and the store outage
OUTAGE_S = 12.0
THROTTLE_S = 6.0
THROTTLED = {"PutEvents": 0.3, "PutObject": 0.5, "ReceiveMessage": 0.3, "DeleteMessageBatch": 0.3}
WORKERS = [ARCHIVER, GRAPH, SERIES, NOTIFIER]
SECRET = "fault-" + uuid.uuid4().hex
RULES = """\
defaults: {{cooldown: 0s, severity: info}}
webhooks:
  trades: {{url: "{base}/trades", secret_env: FAULT_WEBHOOK_SECRET, allow_private: true}}
  cats: {{url: "{base}/cats", secret_env: FAULT_WEBHOOK_SECRET, allow_private: true}}
rules:
  - name: lal-trades
    match: {{type: trade.completed}}
    when:
      - any:
          - {{path: "data.movements[*].from_team", eq: LAL}}
          - {{path: "data.movements[*].to_team", eq: LAL}}
    subject: "{{data.trade_id}}"
    channels: [trades]
    message: "{{data.trade_id}} involves LAL"
  - name: injured-cats
    match: {{type: cat.sighting}}
    when: [{{path: data.status, eq: injured}}]
    subject: "{{data.sighting_id}}"
    channels: [cats]
    message: "injured {{data.cat_id}}"
"""
# Batch sizes and waits: each service's own. The retry budget is cut to 1.5-3 s (3 attempts, 1-2 s
# backoffs), so the store outage below is many budgets long: only the outage handling (held messages, the
# circuit breaker) keeps its messages out of the DLQs.
WORKER_ENV = {
    "TRIBUTARY_RECEIVE_WAIT_S": "1",
    "TRIBUTARY_MAX_ATTEMPTS": "3",
    "TRIBUTARY_BACKOFF_BASE_S": "1",
    "TRIBUTARY_BACKOFF_MAX_S": "2",
    "TRIBUTARY_BREAKER_OPEN_S": "1",
    "TRIBUTARY_BREAKER_OPEN_MAX_S": "4",
}
NOTIFIER_ENV = {
    "FAULT_WEBHOOK_SECRET": SECRET,
    "TRIBUTARY_MAX_ATTEMPTS": "3",
    "TRIBUTARY_BACKOFF_BASE_S": "1",
    "TRIBUTARY_BACKOFF_MAX_S": "2",
    "TRIBUTARY_WEBHOOK_ATTEMPTS": "1",
    "TRIBUTARY_STATE_BACKEND": "sqlite",  # fewer emulator calls; test_notifier covers the DynamoDB state
}


@dataclass(kw_only=True)
class FaultRun:
    """What the run did, for the tests that check one store each."""

    stack: Stack
    client: StackClient
    receiver: WebhookReceiver
    events: list[dict[str, Any]]
    poison: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per worker, the poison bodies sent to its queue by kind."""
    cat_letters: list[dict[str, str]] = field(default_factory=list)
    redrive: dict[str, Any] = field(default_factory=dict)
    throttled: Counter[str] = field(default_factory=Counter)
    timeline: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, what: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.started:6.1f}s {what}")

    @property
    def ids(self) -> set[str]:
        return {e["id"] for e in self.events}


def mixed_events(tag: str) -> list[dict[str, Any]]:
    """EVENTS of the demo producers' mixed seed-domain events, each with a producer-set id, all from the last
    30 minutes (a live stream: the archiver writes an object per type and hour, not per type and 6 hours)."""
    now = datetime.now(UTC)
    return [
        {"id": f"fault-{tag}-{i:05d}"} | e | {"time": (now - timedelta(seconds=(i * 7) % 1800)).isoformat()}
        for i, e in enumerate(domain_events((EVENTS + 3) // 4, seed=909)[:EVENTS])
    ]


def _publish_slowly(client: StackClient, events: list[dict[str, Any]], errors: list[Exception]) -> None:
    """A request every half second for PUBLISH_S, so the faults below hit a stream, not a finished backlog."""
    per_request = max(1, math.ceil(len(events) / (PUBLISH_S * 2)))
    started = time.monotonic()
    try:
        for tick, start in enumerate(range(0, len(events), per_request), start=1):
            chunk = events[start : start + per_request]
            result = client.publish(chunk)
            assert len(result.accepted) == len(chunk), result.rejected[:3]
            time.sleep(max(0.0, started + tick * 0.5 - time.monotonic()))
    except (AssertionError, httpx.HTTPError) as exc:  # the main thread reports it
        errors.append(exc)


def _kill_holding(run: FaultRun, service: str) -> None:
    held = wait_for(lambda: in_flight(run.client, service), timeout_s=60, interval_s=0.05)
    assert held, f"{service} never held a message"
    run.stack.kill(service)
    run.note(f"SIGKILL {service} holding {held}")


def _throttle(run: FaultRun) -> None:
    """THROTTLED's share of each operation's calls answered with a throttling error for THROTTLE_S."""
    proxy = run.stack.proxy
    for operation, fraction in THROTTLED.items():
        proxy.inject(operation, fraction=fraction)
    run.note(f"throttling {', '.join(THROTTLED)} for {THROTTLE_S:.0f}s")
    time.sleep(THROTTLE_S)
    # An operation whose caller was quiet all along (a worker restarting after its kill, an archiver between
    # flushes) stays throttled until it has been hit, so every one of them is exercised.
    wait_for(lambda: {c.operation for c in proxy.throttled()} >= set(THROTTLED), timeout_s=90)
    proxy.clear_faults()
    for call, count in proxy.throttled().items():
        run.throttled[call.operation] += count
    run.note(f"throttling off: {dict(run.throttled)} calls throttled")


def _store_outage(run: FaultRun) -> None:
    """FalkorDB paused and timeseries_writer's file locked for OUTAGE_S (series restarted in a loop), while
    a producer resends a tenth of the events."""
    _kill_holding(run, SERIES.name)
    with paused(falkordb_pid(run.stack)), duckdb_locked(series_file(run.stack)):
        run.note(f"FalkorDB SIGSTOP, DuckDB file locked for {OUTAGE_S:.0f}s")
        again = run.events[: len(run.events) // 10]
        resent = run.client.publish(again)
        assert len(resent.accepted) == len(again), resent.rejected[:3]
        run.note(f"{len(again)} events published again with the same ids")
        failed_starts = 0
        until = time.monotonic() + OUTAGE_S
        while time.monotonic() < until:
            with pytest.raises(ProcessStartError, match="cannot open the series store"):
                run.stack.restart(SERIES.name)
            failed_starts += 1
            time.sleep(1.0)
    run.note("FalkorDB SIGCONT, DuckDB lock released")
    run.receiver.heal("/cats")
    failed_starts += restart_until_healthy(run.stack, SERIES.name, timeout_s=30)
    run.note(f"cats webhook healed; timeseries_writer up after {failed_starts} failed starts")


def _rule_body(event: dict[str, Any]) -> str:
    """What a rule delivers for ``event`` (a producer event, as ingest would have enveloped it)."""
    envelope = Envelope.model_validate(event | {"ingested_at": datetime.now(UTC), "trace": None})
    return json.dumps(
        {
            "version": "0",
            "id": f"eb-{envelope.id}",
            "detail-type": envelope.detail_type,
            "source": envelope.source,
            "time": datetime.now(UTC).isoformat(),
            "detail": json.loads(envelope.model_dump_json()),
        }
    )


def _poison_bodies(worker: str) -> dict[str, str]:
    """Every kind of body that must reach the DLQ alone, each failing to parse as an envelope."""
    almost_256_kib = json.dumps({"detail-type": "poison", "detail": {"pad": "x" * (256 * 1024 - 1_000)}})
    return {
        "shape": json.dumps({"detail-type": "poison", "detail": {"id": f"poison-{worker}", "type": 7}}),
        "deep": "[" * 100_000 + "]" * 100_000,
        "huge_number": '{"detail-type": "x", "detail": {"id": "poison", "version": ' + "9" * 5_000 + "}}",
        "big": almost_256_kib,
        "not_utf8": b"\xff\xfe\xfd\xc3\x28 not UTF-8".decode("latin-1"),
    }


def _send_poison(run: FaultRun) -> None:
    """Every poison kind into every worker queue; the year-1 event in one batch with nine valid ones."""
    sqs = run.client.aws("sqs")
    readings = [e for e in run.events if e["type"] == "sensor.reading" and e["version"] == 1]
    for worker in WORKERS:
        url = run.client.description["queues"][worker.name]["url"]
        bodies = _poison_bodies(worker.name)
        for body in bodies.values():
            sqs.send_message(QueueUrl=url, MessageBody=body)
        timed = json.loads(_rule_body(readings[0] | {"id": f"poison-time-{worker.name}"}))
        timed["detail"]["time"] = "0001-01-01T00:30:00+01:00"  # no UTC time exists: never a valid envelope
        bodies["time"] = json.dumps(timed)
        batch = [_rule_body(e) for e in readings[1:10]] + [bodies["time"]]
        sent = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(batch)]
        )
        assert not sent.get("Failed"), sent["Failed"]
        run.poison[worker.name] = bodies
    run.note(f"{len(bodies)} kinds of poison sent to every worker queue, the year-1 event among 9 valid ones")


def _all_queues_empty(client: StackClient) -> bool:
    return all(d["queue"] == 0 for d in client.depths().values())


def _redrive_cats(run: FaultRun) -> None:
    """Redrive the notifier's cat letters (failed while the webhook was down) with the operator CLI."""
    dlq_url = run.client.description["queues"][NOTIFIER.name]["dlq_url"]
    letters = run.client.dead_letters(NOTIFIER.name, max_messages=1000)
    run.cat_letters = [
        failure_of(m) | {"id": json.loads(m["Body"]).get("detail", {}).get("id", "")}
        for m in letters
        if _poison_kind(run, NOTIFIER.name, m["Body"]) is None
    ]
    assert run.cat_letters, f"no alert failed while the cats webhook was down ({dlq_url})"
    command = [
        sys.executable,
        "-m",
        "tributary.cli",
        "dlq",
        "redrive",
        NOTIFIER.name,
        "--filter",
        "type=cat.sighting",
        "--visibility",
        "5",
        "--wait-in-flight",
        "--json",
        "--data-dir",
        str(run.stack.data_dir),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    run.redrive = json.loads(done.stdout)
    run.note(f"redrove {run.redrive.get('moved')} notifier letters with the CLI")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultRun]:
    if e2e_emulators() == ["external"]:
        pytest.skip("the fault suite kills and pauses processes: it needs a local stack")
    data_dir = Path(tmp_path_factory.mktemp("fault"))
    rules = data_dir / "rules.yaml"
    with WebhookReceiver() as receiver:
        rules.write_text(RULES.format(base=receiver.base_url), encoding="utf-8")
        receiver.always_fail("/cats")
        manifests = [INGEST] + [replace(m, queue=replace(m.queue, visibility_timeout_s=30)) for m in WORKERS]
        env = {m.name: dict(WORKER_ENV) for m in WORKERS}
        env[NOTIFIER.name] |= NOTIFIER_ENV | {"TRIBUTARY_RULES_FILE": str(rules)}
        # The archiver's ledger in its SQLite file, as the notifier's state: at the run's rates through the
        # proxy MiniStack answers the DynamoDB ledger's calls too slowly for this run (20-25 s per 1,000-event
        # batch); tests/e2e/test_archiver_tasks.py kills archivers on the DynamoDB ledger instead.
        env[ARCHIVER.name] |= {"TRIBUTARY_STATE_BACKEND": "sqlite"}
        with start_stack(
            "ministack", data_dir, service_env=env, manifests=manifests, watch_dlqs_s=None, aws_proxy=True
        ) as stack:
            client = StackClient(stack.describe())
            fault_run = FaultRun(stack=stack, client=client, receiver=receiver, events=mixed_events("run"))
            _drive(fault_run)
            yield fault_run


def _drive(run: FaultRun) -> None:
    errors: list[Exception] = []
    publisher = threading.Thread(target=_publish_slowly, args=(run.client, run.events, errors))
    publisher.start()
    run.note(f"publishing {len(run.events)} events over {PUBLISH_S:.0f}s")
    try:
        for worker in (ARCHIVER, GRAPH, NOTIFIER):
            _kill_holding(run, worker.name)
            run.stack.restart(worker.name)
            run.note(f"{worker.name} restarted")
        _throttle(run)
        _store_outage(run)
    finally:
        publisher.join()
    assert not errors, errors
    run.note("published")
    _send_poison(run)
    assert wait_for(lambda: _all_queues_empty(run.client), timeout_s=300, interval_s=1), run.client.depths()
    run.note("every queue drained")
    _redrive_cats(run)
    assert wait_for(lambda: _all_queues_empty(run.client), timeout_s=60, interval_s=1), run.client.depths()
    run.note("drained after the redrive")
    print("\nfault run:\n  " + "\n  ".join(run.timeline))


# -- the checks, one store each ------------------------------------------------------------------------


def test_the_archive_holds_every_event_exactly_once(run: FaultRun) -> None:
    """Archive objects by event id: the published ids, each once, nothing else."""
    archived = Counter(envelope["id"] for _, envelope in run.client.archived())
    assert set(archived) == run.ids
    assert [i for i, n in archived.items() if n != 1] == []


def test_the_graph_is_the_graph_of_one_delivery(run: FaultRun) -> None:
    """Node and relationship counts per label equal an in-memory graph fed every event once."""
    now = datetime.now(UTC)
    upcast = upcaster_for(GRAPH.consumes)  # as graph_writer's runtime does before its handler
    envelopes = [upcast(Envelope.model_validate(e | {"ingested_at": now, "trace": None})) for e in run.events]
    oracle = InMemoryGraphStore()
    oracle.write(plan(rows_of(e) for e in envelopes))
    expected = oracle.counts()
    url = run.client.description["graph_url"]
    got = httpx.get(f"{url}/graph/stats", timeout=30).json()
    assert got["nodes"] == expected.nodes
    assert got["relationships"] == expected.relationships


def test_every_reading_is_one_point(run: FaultRun) -> None:
    """Per metric and site: as many points as readings, summing to the readings' values."""
    readings = [e for e in run.events if e["type"] == "sensor.reading"]
    expected: dict[tuple[str, str], list[float]] = {}
    for event in readings:
        expected.setdefault((event["data"]["metric"], event["data"]["site_id"]), []).append(
            event["data"]["value"]
        )
    url = run.client.description["series_url"]
    now = datetime.now(UTC)
    got: dict[tuple[str, str], tuple[int, float]] = {}
    for metric, site in expected:
        params = {
            "metric": metric,
            "site": site,
            "from": (now - timedelta(hours=8)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
            "bucket": "1h",
            "agg": "sum",
        }
        response = httpx.get(f"{url}/series", params=params, timeout=30)
        response.raise_for_status()
        buckets = response.json()["buckets"]
        got[(metric, site)] = (sum(b["count"] for b in buckets), math.fsum(b["value"] for b in buckets))
    assert {k: n for k, (n, _) in got.items()} == {k: len(v) for k, v in expected.items()}
    for key, values in expected.items():
        assert got[key][1] == pytest.approx(math.fsum(values)), key


def _expected_alerts(events: list[dict[str, Any]]) -> set[tuple[str, str]]:
    alerts = set()
    for event in events:
        data = event["data"]
        if event["type"] == "trade.completed" and any(
            "LAL" in (m["from_team"], m["to_team"]) for m in data["movements"]
        ):
            alerts.add(("lal-trades", data["trade_id"]))
        if event["type"] == "cat.sighting" and data["status"] == "injured":
            alerts.add(("injured-cats", data["sighting_id"]))
    return alerts


def test_the_notification_log_has_every_alert_once_and_sent(run: FaultRun) -> None:
    """The notifier's log: one record per matching event, each sent; each delivery id reached its
    webhook (a resend after a kill carries the same delivery id, so receivers dedupe)."""
    expected = _expected_alerts(run.events)
    url = run.client.description["notifier_url"]
    log = httpx.get(f"{url}/v1/alerts", params={"limit": 1000}, timeout=30).json()["alerts"]
    assert len(expected) < 1000, "the log page would not hold every alert"
    assert Counter((a["rule"], a["subject"]) for a in log) == Counter(expected)
    assert {a["status"] for a in log} == {"sent"}
    delivered = {
        r.json["delivery_id"]: r.json
        for path in ("/trades", "/cats")
        for r in run.receiver.requests(path)
        if r.ok
    }
    assert Counter((d["rule"], d["subject"]) for d in delivered.values()) == Counter(expected)


def _poison_kind(run: FaultRun, worker: str, body: str) -> str | None:
    """Which poison a dead letter's body is (the big one arrives as the summary naming its hash)."""
    for kind, sent in run.poison[worker].items():
        if body == sent:
            return kind
    try:
        summary = loads(body)
    except ContractError:
        return None
    big = run.poison[worker]["big"].encode()
    if isinstance(summary, dict) and summary.get("sha256") == hashlib.sha256(big).hexdigest():
        return "big"
    return None


def test_every_failure_is_in_a_dlq_with_its_reason(run: FaultRun) -> None:
    """Each DLQ holds exactly its poison, each kind once, with its reason, within SQS's limits: no innocent
    batch-mate and no event of the store outage; the alerts that failed while the webhook was down were
    dead-lettered with theirs, and the CLI redrove all of them."""
    for worker in WORKERS:
        letters = run.client.dead_letters(worker.name, max_messages=50)
        kinds = Counter(_poison_kind(run, worker.name, m["Body"]) for m in letters)
        assert None not in kinds, f"{worker.name}: {kinds[None]} dead letters that are not poison"
        assert set(kinds) == set(run.poison[worker.name]) and max(kinds.values()) == 1, (worker.name, kinds)
        for letter in letters:
            attrs = failure_of(letter)  # also: at most 10 attributes, 256 KiB
            assert attrs["service"] == worker.name
            assert (attrs["reason"], attrs["error_type"]) == ("permanent", "ContractError"), attrs
    cats = {e["id"] for e in run.events if e["type"] == "cat.sighting" and e["data"]["status"] == "injured"}
    assert {letter["id"] for letter in run.cat_letters} <= cats
    for letter in run.cat_letters:
        assert letter["reason"] == "retries_exhausted", letter
        assert letter["service"] == NOTIFIER.name
        assert "webhook cats" in letter["error_message"], letter
        assert "500" in letter["error_message"], letter
    assert run.redrive["moved"] == len(run.cat_letters)


def test_no_service_died_unplanned(run: FaultRun) -> None:
    """Poison, outage and throttling: no process exited except those the suite killed (no restarts)."""
    died = {
        f"{p.service}[{p.replica}]": p.last_exit
        for procs in run.stack.supervisor.processes.values()
        for p in procs
        if p.restarts or not p.alive
    }
    assert died == {}


def test_throttled_calls_were_retried_not_lost(run: FaultRun) -> None:
    """Every throttled operation was hit (the stores' checks above show nothing was lost by it)."""
    assert set(run.throttled) == set(THROTTLED), run.throttled
    assert all(count > 0 for count in run.throttled.values()), run.throttled
