"""The notifier end to end: producer → ingest → bus → queue → notifier → signed webhooks and SNS.

The module runs its own stack (ingest and the notifier only) per emulator, with a rules file pointing at a
real HTTP receiver on 127.0.0.1 and an SQS queue subscribed to the provisioned alerts topic:

- threshold alerts arrive once per channel, signed correctly, and the cooldown holds back repeats;
- a receiver that fails three times, then succeeds, gets exactly one successful delivery;
- a receiver that always fails leaves the event in the notifier's DLQ with the reason;
- the same event again (a producer resend, a redelivery, a DLQ redrive) sends nothing new;
- a rate rule alerts once when a window reaches its count, whatever is resent;
- an ``ops.dlq_depth`` event and a device's silence raise their alerts too.

Where the emulator serves DynamoDB (MiniStack) the notifier keeps its state there, so the DynamoDB adapter is
exercised against a running endpoint; elsewhere (LocalStack, without DynamoDB here) in its SQLite file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.manifest import MANIFEST as INGEST
from notifier.manifest import MANIFEST as NOTIFIER
from notifier.testing import Received, WebhookReceiver
from shared.testkit.letters import failure_of
from shared.testkit.waiting import wait_for
from tests.support.settled import settled
from tributary.client import StackClient
from tributary.emulators import make_emulator
from tributary.stack import Stack
from tributary_sdk import Event, Publisher

pytestmark = pytest.mark.e2e

SECRET = "e2e-" + uuid.uuid4().hex
COOLDOWN_S = 6
RULES = """\
defaults: {{cooldown: 0s, channels: [ok], severity: warning}}
webhooks:
  ok: {{url: "{base}/ok", secret_env: E2E_WEBHOOK_SECRET, allow_private: true}}
  flaky: {{url: "{base}/flaky", secret_env: E2E_WEBHOOK_SECRET, allow_private: true}}
  dead: {{url: "{base}/dead", secret_env: E2E_WEBHOOK_SECRET, allow_private: true}}
rules:
  - name: hot
    match: {{type: sensor.reading}}
    when:
      - {{path: data.site_id, eq: site-e2e-hot}}
      - {{path: data.quantity.value, gt: 80}}
    subject: "{{data.device_id}}"
    severity: critical
    cooldown: {cooldown}s
    channels: [ok, sns]
    message: "{{data.device_id}} reads {{data.quantity.value}} {{data.quantity.unit}}"
  - name: flaky-cat
    match: {{type: cat.sighting}}
    when: [{{path: data.status, eq: injured}}, {{path: data.cat_id, eq: cat-e2e-flaky}}]
    channels: [flaky]
    message: "injured {{data.cat_id}}"
  - name: dead-cat
    match: {{type: cat.sighting}}
    when: [{{path: data.status, eq: injured}}, {{path: data.cat_id, eq: cat-e2e-dead}}]
    channels: [dead]
    message: "injured {{data.cat_id}}"
  - name: lal-trades
    match: {{type: trade.completed}}
    when:
      - any:
          - {{path: "data.movements[*].from_team", eq: LAL}}
          - {{path: "data.movements[*].to_team", eq: LAL}}
    subject: "{{data.trade_id}}"
    message: "{{data.trade_id}}: {{data.movements[*].player_name}}"
  - name: dlq
    match: {{type: ops.dlq_depth}}
    when: [{{path: data.depth, gt: 0}}]
    subject: "{{data.service}}"
    severity: critical
    message: "{{data.depth}} in {{data.queue}}"
  - name: cluster
    kind: rate
    match: {{type: cat.sighting}}
    when: [{{path: data.municipality_code, eq: "131016"}}]
    subject: "{{data.municipality_code}}"
    count: 3
    within: 1h
    message: "{{rate.count}} cats in {{data.municipality_code}} within {{rate.within}}"
  - name: quiet
    kind: absence
    match: {{type: sensor.reading}}
    when: [{{path: data.site_id, eq: site-e2e-quiet}}]
    subject: "{{data.device_id}}"
    after: 3s
    message: "no reading from {{subject}} for {{silent_for}}"
"""


@pytest.fixture(scope="module")
def receiver(emulator_name: str) -> Iterator[WebhookReceiver]:
    """A fresh receiver per emulator's stack (the tests count what each endpoint got)."""
    with WebhookReceiver() as server:
        yield server


@pytest.fixture(scope="module")
def notifier_stack(
    emulator_name: str, receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """ingest and the notifier on their own stack, the rules pointing at ``receiver``."""
    if emulator_name == "external":
        pytest.skip("the notifier tests configure their own stack (rules file, receivers)")
    data_dir = Path(tmp_path_factory.mktemp(f"notifier-{emulator_name}"))
    rules = data_dir / "rules.yaml"
    rules.write_text(RULES.format(base=receiver.base_url, cooldown=COOLDOWN_S), encoding="utf-8")
    env = {
        "TRIBUTARY_RULES_FILE": str(rules),
        "E2E_WEBHOOK_SECRET": SECRET,
        "TRIBUTARY_RECEIVE_WAIT_S": "1",
        "TRIBUTARY_BATCH_MAX_WAIT_MS": "200",
        "TRIBUTARY_WEBHOOK_ATTEMPTS": "2",
        "TRIBUTARY_WEBHOOK_BACKOFF_S": "0.2",
        "TRIBUTARY_MAX_ATTEMPTS": "3",
        "TRIBUTARY_BACKOFF_BASE_S": "1",
        "TRIBUTARY_BACKOFF_MAX_S": "2",
        "TRIBUTARY_ABSENCE_INTERVAL_S": "1",
    }
    with Stack(
        data_dir=data_dir,
        emulator=make_emulator(emulator_name, data_dir),
        manifests=[INGEST, NOTIFIER],
        service_env={"notifier": env},
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def client(notifier_stack: Stack) -> StackClient:
    return StackClient(notifier_stack.describe())


@pytest.fixture(scope="module")
def sns_inbox(client: StackClient) -> str:
    """An SQS queue subscribed to the notifier's alerts topic: what an SNS subscriber receives."""
    sqs, sns = client.aws("sqs"), client.aws("sns")
    url = sqs.create_queue(QueueName=f"e2e-alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=client.description["topics"]["notifier"]["alerts"], Protocol="sqs", Endpoint=arn)
    return str(url)


def _now(offset_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_s)).isoformat()


def _reading(
    device: str, value: float, *, site: str = "site-e2e-hot", id_: str | None = None
) -> dict[str, Any]:
    data = {"device_id": device, "site_id": site, "metric": "temperature", "value": value, "unit": "celsius"}
    event = {"type": "sensor.reading", "version": 1, "source": "e2e", "time": _now(), "data": data}
    return event | ({"id": id_} if id_ else {})


def _cat(cat_id: str, municipality: str = "131041") -> dict[str, Any]:
    data = {
        "sighting_id": f"sgt-{uuid.uuid4().hex[:8]}",
        "cat_id": cat_id,
        "municipality_code": municipality,
        "status": "injured",
    }
    return {
        "id": f"e2e-{uuid.uuid4().hex}",
        "type": "cat.sighting",
        "version": 1,
        "source": "e2e",
        "time": _now(),
        "data": data,
    }


def _publish(client: StackClient, events: list[dict[str, Any]]) -> list[str]:
    result = client.publish(events)
    assert set(result.statuses) == {202} and not result.rejected, (result.statuses, result.rejected)
    return [a["id"] for a in result.accepted]


def _verified(request: Received) -> bool:
    """The signature checked with an HMAC computed here, independently of the notifier's code."""
    stamp = request.headers["x-tributary-timestamp"]
    mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(stamp)) < 300
    return fresh and hmac.compare_digest(request.headers["x-tributary-signature"], f"sha256={mac}")


def _ok_for(receiver: WebhookReceiver, path: str, rule: str) -> list[Received]:
    return [r for r in receiver.requests(path) if r.ok and r.json["rule"] == rule]


def _drained(client: StackClient) -> bool:
    return client.queue_depth(client.description["queues"]["notifier"]["url"]) == 0


def _settled(client: StackClient) -> int:
    return settled(client.description, "notifier")


def _wait_settled(client: StackClient, at_least: int) -> None:
    """Until the notifier has settled ``at_least`` messages in all (stored or dead-lettered: gone for good)
    and its queue is empty: after that, nothing more can happen for the events sent before."""
    wait_for(
        lambda: _settled(client) >= at_least and _drained(client),
        timeout_s=60,
        what=f"the notifier to settle {at_least} messages and drain",
        seen=lambda: (_settled(client), client.depths()),
    )


def _sns_messages(client: StackClient, url: str) -> list[dict[str, Any]]:
    sqs = client.aws("sqs")
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            return out
        for message in got:
            out.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_threshold_alerts_arrive_once_signed_and_respect_the_cooldown(
    client: StackClient, receiver: WebhookReceiver, sns_inbox: str
) -> None:
    """Hot readings of two devices: each device alerts once (the cooldown holds back its other hot
    readings) to the webhook, correctly signed, and to SNS; after the cooldown the device alerts again."""
    tag = uuid.uuid4().hex[:6]
    a, b = f"dev-a-{tag}", f"dev-b-{tag}"
    ids = _publish(
        client, [_reading(a, 91), _reading(a, 95), _reading(a, 20), _reading(b, 85), _reading(a, 88)]
    )
    a_hot = {ids[0], ids[1], ids[4]}

    def alerted() -> list[Received] | None:
        got = [r for r in _ok_for(receiver, "/ok", "hot") if r.json["subject"] in (a, b)]
        return got if len(got) >= 2 and _drained(client) else None

    first = wait_for(alerted, timeout_s=90)
    assert first, receiver.requests("/ok")
    assert sorted(r.json["subject"] for r in first) == [a, b]
    assert all(_verified(r) for r in first)
    by_subject = {r.json["subject"]: r.json for r in first}
    assert by_subject[a]["event"]["id"] in a_hot and by_subject[b]["event"]["id"] == ids[3]
    # a v1 reading reaches the rules upcast to v2: the message reads as before
    assert by_subject[b]["message"] == f"{b} reads 85 celsius" and by_subject[b]["severity"] == "critical"
    assert len({r.headers["x-tributary-delivery-id"] for r in first}) == 2

    sns = wait_for(lambda: [m for m in _sns_messages(client, sns_inbox) if m["subject"] in (a, b)], 30)
    assert sorted(m["subject"] for m in sns) == [a, b]
    assert {m["delivery_id"] for m in sns}.isdisjoint(r.headers["x-tributary-delivery-id"] for r in first)

    time.sleep(COOLDOWN_S + 1)
    [later] = _publish(client, [_reading(a, 99)])
    again = wait_for(
        lambda: [r for r in _ok_for(receiver, "/ok", "hot") if r.json["event"]["id"] == later], 60
    )
    assert again and _verified(again[0])
    assert len([r for r in _ok_for(receiver, "/ok", "hot") if r.json["subject"] in (a, b)]) == 3


def test_a_rate_window_alerts_once_at_its_count(client: StackClient, receiver: WebhookReceiver) -> None:
    """Two sightings in one municipality: nothing. The third (sent twice, in separate requests) raises one
    alert; a fourth and a resend of all four raise nothing more."""
    first = [_cat(f"cat-e2e-c{i}", municipality="131016") for i in range(2)]
    _publish(client, first)
    assert wait_for(lambda: _drained(client), timeout_s=30)
    third = _cat("cat-e2e-c2", municipality="131016")
    _publish(client, [third])
    _publish(client, [third, _cat("cat-e2e-c3", municipality="131016")])
    got = wait_for(lambda: _ok_for(receiver, "/ok", "cluster"), timeout_s=60)
    assert got and _verified(got[0])
    assert got[0].json["message"].endswith("cats in 131016 within 1h")
    assert got[0].json["event"]["id"] in {third["id"]} | {e["id"] for e in first}
    assert wait_for(lambda: _drained(client), timeout_s=30)
    before = _settled(client)
    _publish(client, [*first, third])
    _wait_settled(client, before + 3)
    assert len(_ok_for(receiver, "/ok", "cluster")) == 1


def test_a_receiver_failing_three_times_gets_exactly_one_delivery(
    client: StackClient, receiver: WebhookReceiver
) -> None:
    """Three 500s (two attempts in the first delivery, one in the second), then 200: one success, one
    delivery id throughout, and nothing in the DLQ."""
    receiver.fail("/flaky", 3)
    before = _settled(client)
    [event_id] = _publish(client, [_cat("cat-e2e-flaky")])
    delivered = wait_for(lambda: [r for r in receiver.requests("/flaky") if r.ok], timeout_s=90)
    assert delivered, receiver.requests("/flaky")
    _wait_settled(client, before + 1)  # its message is gone: no extra delivery can follow
    requests = receiver.requests("/flaky")
    assert [r.status for r in requests] == [500, 500, 500, 200]
    assert len({r.headers["x-tributary-delivery-id"] for r in requests}) == 1
    assert all(_verified(r) for r in requests) and requests[-1].json["event"]["id"] == event_id
    dead = client.dead_letters("notifier", max_messages=10)
    assert not [m for m in dead if event_id in m["Body"]]


def test_an_always_failing_receiver_ends_in_the_dlq_with_the_reason(
    client: StackClient, receiver: WebhookReceiver
) -> None:
    """Every attempt fails: after the last delivery the event is in the notifier's DLQ, saying why; once the
    receiver is fixed, a redrive delivers it once, and redriving it again sends nothing."""
    receiver.always_fail("/dead")
    [event_id] = _publish(client, [_cat("cat-e2e-dead")])
    sqs = client.aws("sqs")
    queues = client.description["queues"]["notifier"]

    def dead_letter() -> dict[str, Any] | None:
        for message in client.dead_letters("notifier", max_messages=10):
            if event_id in message["Body"]:
                return message
        return None

    letter = wait_for(dead_letter, timeout_s=120, interval_s=1)
    assert letter, "the event did not reach the DLQ"
    attrs = failure_of(letter)
    assert (attrs["reason"], attrs["service"]) == ("retries_exhausted", "notifier")
    assert attrs["error_type"] == "RetryableError" and attrs["attempts"] == "3"
    assert attrs["error_message"].startswith(f"webhook dead: POST {receiver.base_url}/… failed 2")
    assert "answered 500" in attrs["error_message"]
    assert len(receiver.requests("/dead")) == 6 and not any(r.ok for r in receiver.requests("/dead"))

    receiver.heal("/dead")
    body = letter["Body"]
    sqs.purge_queue(QueueUrl=queues["dlq_url"])
    sqs.send_message(QueueUrl=queues["url"], MessageBody=body)
    assert wait_for(lambda: [r for r in receiver.requests("/dead") if r.ok], timeout_s=60)
    assert wait_for(lambda: _drained(client), timeout_s=30)
    before = _settled(client)
    sqs.send_message(QueueUrl=queues["url"], MessageBody=body)
    _wait_settled(client, before + 1)
    assert len([r for r in receiver.requests("/dead") if r.ok]) == 1


def test_the_same_event_again_sends_nothing_new(
    client: StackClient, receiver: WebhookReceiver, sns_inbox: str
) -> None:
    """A trade alerted once; then the producer resends it (same id) and its message is delivered to the
    queue again: no second webhook call, no second SNS message."""
    trade_id = f"trd-{uuid.uuid4().hex[:10]}"
    move = {"player_id": "1629029", "player_name": "Luka Dončić", "from_team": "DAL", "to_team": "LAL"}
    event = {
        "id": f"e2e-{uuid.uuid4().hex}",
        "type": "trade.completed",
        "version": 1,
        "source": "e2e",
        "time": _now(),
        "data": {"trade_id": trade_id, "season": "2024-25", "movements": [move]},
    }

    def mine() -> list[Received]:
        return [r for r in _ok_for(receiver, "/ok", "lal-trades") if r.json["subject"] == trade_id]

    _publish(client, [event])
    first = wait_for(mine, timeout_s=60)
    assert first and first[0].json["message"] == f"{trade_id}: Luka Dončić"
    assert wait_for(lambda: _drained(client), timeout_s=30)

    before = _settled(client)
    _publish(client, [event])
    envelope = {**event, "ingested_at": _now(), "trace": None}
    client.aws("sqs").send_message(
        QueueUrl=client.description["queues"]["notifier"]["url"], MessageBody=json.dumps(envelope)
    )
    _wait_settled(client, before + 2)
    assert len(mine()) == 1


def test_an_ops_dlq_depth_event_alerts(client: StackClient, receiver: WebhookReceiver) -> None:
    """The watcher's event shape, put on the bus as the platform does (producers may not send ops.*
    through ingest): a non-empty DLQ reaches the channels."""
    service = f"svc_{uuid.uuid4().hex[:6]}"
    data = {"service": service, "queue": f"tributary-{service}-dlq", "depth": 4, "observed_at": _now()}
    platform = Publisher.to_bus(
        client=client.aws("events"), source="tributary.watcher", bus_name=client.description["bus_name"]
    )
    [result] = platform.publish([Event(type="ops.dlq_depth", version=1, data=data)])
    assert result.ok, result
    got = wait_for(lambda: [r for r in _ok_for(receiver, "/ok", "dlq") if r.json["subject"] == service], 60)
    assert got and got[0].json["message"] == f"4 in tributary-{service}-dlq"
    assert got[0].json["severity"] == "critical"


def test_a_silent_device_raises_one_absence_alert(client: StackClient, receiver: WebhookReceiver) -> None:
    """A device seen once and then silent for longer than ``after`` raises one alert for that silence."""
    device = f"dev-quiet-{uuid.uuid4().hex[:6]}"
    _publish(client, [_reading(device, 20, site="site-e2e-quiet")])

    def silence() -> list[Received]:
        return [r for r in _ok_for(receiver, "/ok", "quiet") if r.json["subject"] == device]

    got = wait_for(silence, timeout_s=60)
    assert got and got[0].json["message"].startswith(f"no reading from {device} for ")
    assert got[0].json["event"] is None and "last_seen" in got[0].json["details"]
    time.sleep(4)
    assert len(silence()) == 1


def test_the_notification_log_is_served(client: StackClient, receiver: WebhookReceiver) -> None:
    """``GET /v1/alerts`` lists what the notifier did: the alert sent to both channels, the repeat
    suppressed by the cooldown."""
    device = f"dev-log-{uuid.uuid4().hex[:6]}"
    first, second = _publish(client, [_reading(device, 90), _reading(device, 91)])
    assert wait_for(lambda: [r for r in _ok_for(receiver, "/ok", "hot") if r.json["subject"] == device], 60)
    assert wait_for(lambda: _drained(client), timeout_s=30)
    url = client.description["notifier_url"]
    alerts = httpx.get(f"{url}/v1/alerts", params={"limit": 200}, timeout=10).json()["alerts"]
    mine = {a["key"]: a for a in alerts if a["subject"] == device}
    assert set(mine) == {first, second}
    assert sorted((a["status"], tuple(a["sent"])) for a in mine.values()) == [
        ("sent", ("ok", "sns")),
        ("suppressed", ()),
    ]


def test_state_lives_in_dynamodb_where_the_emulator_serves_it(
    notifier_stack: Stack, client: StackClient, receiver: WebhookReceiver
) -> None:
    """On an emulator with DynamoDB (MiniStack) the once-only record of an alert is an item of the state
    table; elsewhere (LocalStack on the host) a row of the SQLite file in the notifier's data folder."""
    sqlite = notifier_stack.data_dir / "services" / "notifier" / "notifier-state.sqlite3"
    expected = {"ministack": "dynamodb", "localstack": "sqlite"}[client.description["emulator"]]
    assert client.description["state_backend"] == expected
    device = f"dev-state-{uuid.uuid4().hex[:6]}"
    [event_id] = _publish(client, [_reading(device, 93)])
    assert wait_for(lambda: [r for r in _ok_for(receiver, "/ok", "hot") if r.json["subject"] == device], 60)
    if expected == "sqlite":
        assert sqlite.exists()
        return
    table = f"{notifier_stack.bus_name}-notifier-state"
    dynamodb = client.aws("dynamodb")
    key = {"pk": {"S": "notif#hot"}, "sk": {"S": event_id}}

    def item() -> dict[str, Any] | None:
        found = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return dict(found) if found and found["status"]["S"] != "pending" else None  # settled

    def table_now() -> dict[str, Any]:
        """What the table holds, by key prefix, and what the notifier's log says of the alert."""
        pages = dynamodb.get_paginator("scan").paginate(TableName=table)
        items = [i for page in pages for i in page["Items"]]
        alerts = httpx.get(f"{client.description['notifier_url']}/v1/alerts", timeout=10).json()["alerts"]
        return {
            "tables": dynamodb.list_tables()["TableNames"],
            "items_by_prefix": Counter(i["pk"]["S"].split("#")[0] for i in items),
            "logged": [a for a in alerts if a["subject"] == device],
        }

    stored = wait_for(item, timeout_s=30, what=f"the item {key} in {table}", seen=table_now)
    assert stored is not None and stored["subject"]["S"] == device and stored["status"]["S"] == "sent"
    assert not sqlite.exists()
