"""The operator CLI end to end, run as an operator runs it (``python -m tributary.cli …`` subprocesses).

On a stack of its own per emulator (archiver only), rule-delivered envelopes (``tests/support/volumes.py``:
1,000 on MiniStack, 500 on LocalStack) are put straight into the archiver's DLQ with the runtime's reason
attributes, in three kinds of failure (a contract error, S3 throttling, read timeouts):

- ``dlq peek`` and a dry-run redrive consume nothing;
- a filtered redrive (``reason~SlowDown``) moves exactly the matching letters, and the archiver stores them;
- an unfiltered redrive SIGKILLed a fifth of the way and run again leaves every event in the archive exactly
  once;
- a consumer added afterwards (its queue and rule provisioned from a test-only manifest) gets the full
  history of what it subscribes to from ``replay --from-archive --to-service``, and ``--to-bus`` reaches
  it through its rule.

Rates are printed (``-s`` shows them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver.manifest import MANIFEST as ARCHIVER
from shared.manifest import ServiceManifest, Subscription
from shared.testkit.waiting import wait_for
from tests.e2e.conftest import start_stack
from tests.support.volumes import volume
from tributary.client import StackClient
from tributary.producers import domain_events
from tributary.provision import provision

pytestmark = pytest.mark.e2e

KINDS = {
    "contract": ("permanent", "ContractError", "message holds no valid envelope: data.value: bad"),
    "slowdown": ("retries_exhausted", "RetryableError", "S3 put of events/... failed: SlowDown"),
    "timeout": ("retries_exhausted", "ReadTimeoutError", "Read timeout on endpoint URL"),
}
PROBE = ServiceManifest(
    name="backfill_probe",
    consumes=(
        Subscription(type="sensor.reading", versions=(1,)),
        Subscription(type="device.registered", versions=(1,)),
    ),
)


@dataclass
class Ops:
    """The stack under test, a client, and the CLI pointed at it."""

    emulator: str
    data_dir: Path
    client: StackClient

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tributary.cli", *args, "--data-dir", str(self.data_dir)]

    def cli(self, *args: str, timeout_s: float = 600) -> tuple[dict[str, Any] | list[Any], float]:
        """Run a command with ``--json``; its parsed output and wall time."""
        started = time.monotonic()
        done = subprocess.run(
            self.command(*args, "--json"), capture_output=True, text=True, timeout=timeout_s, check=False
        )
        elapsed = time.monotonic() - started
        assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        parsed: dict[str, Any] | list[Any] = json.loads(done.stdout)
        return parsed, elapsed

    def dlq(self) -> dict[str, int]:
        sqs = self.client.aws("sqs")
        url = self.client.description["queues"]["archiver"]["dlq_url"]
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {
            "visible": int(attrs["ApproximateNumberOfMessages"]),
            "in_flight": int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        }

    def archived(self, ids: set[str]) -> Counter[str]:
        return Counter(env["id"] for _, env in self.client.archived() if env["id"] in ids)


@pytest.fixture(scope="module")
def ops(emulator_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ops]:
    """The archiver alone on a stack of its own: these tests fill and drain its DLQ and add a consumer."""
    if emulator_name == "external":
        pytest.skip("the operator tests fill and drain the archiver's DLQ: they need a stack of their own")
    data_dir = Path(tmp_path_factory.mktemp(f"ops-{emulator_name}"))
    env = {"archiver": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"}}
    with start_stack(emulator_name, data_dir, service_env=env, manifests=[ARCHIVER]) as stack:
        yield Ops(emulator=emulator_name, data_dir=data_dir, client=StackClient(stack.describe()))


@dataclass(frozen=True)
class Letters:
    ids: dict[str, set[str]]  # kind -> event ids
    types: dict[str, str]  # event id -> type

    @property
    def all(self) -> set[str]:
        return set().union(*self.ids.values())


def _body(envelope: dict[str, Any]) -> str:
    """What a rule delivers."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": f"{envelope['type']}.v{envelope['version']}",
            "source": envelope["source"],
            "account": "000000000000",
            "time": envelope["time"],
            "region": "us-east-1",
            "resources": [],
            "detail": envelope,
        }
    )


def _attributes(kind: str, attempts: int) -> dict[str, Any]:
    reason, error_type, message = KINDS[kind]
    values = {
        "reason": reason,
        "error_type": error_type,
        "error_message": message,
        "service": "archiver",
        "attempts": str(attempts),
        "first_failure_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="milliseconds"),
    }
    return {f"tributary.{k}": {"DataType": "String", "StringValue": v} for k, v in values.items()}


@pytest.fixture(scope="module")
def letters(ops: Ops) -> Letters:
    """The volume's envelopes in the archiver's DLQ, a third of each kind; event times in three hours over two
    days, so the archive (and a replay) spans several partitions and a midnight."""
    run = uuid.uuid4().hex[:8]
    # hh:05 to hh:30 of the last full hour, and 20 and 40 hours before: never in the future, three partitions
    now = (datetime.now(UTC) - timedelta(hours=1)).replace(minute=30, second=0, microsecond=0)
    count = volume("operators", ops.emulator)
    events = domain_events((count + 3) // 4, seed=61)[:count]
    entries, ids, types = [], {kind: set() for kind in KINDS}, {}
    for i, event in enumerate(events):
        kind = list(KINDS)[i % 3]
        at = now - timedelta(hours=20 * (i % 3), seconds=i % 1500)
        envelope = event | {"id": f"ops-{run}-{i:05d}", "time": at.isoformat(), "ingested_at": at.isoformat()}
        envelope["trace"] = None
        ids[kind].add(envelope["id"])
        types[envelope["id"]] = envelope["type"]
        entries.append({"MessageBody": _body(envelope), "MessageAttributes": _attributes(kind, 5)})
    sqs = ops.client.aws("sqs")
    url = ops.client.description["queues"]["archiver"]["dlq_url"]

    def send(start: int) -> None:
        batch = [entry | {"Id": str(n)} for n, entry in enumerate(entries[start : start + 10])]
        response = sqs.send_message_batch(QueueUrl=url, Entries=batch)
        assert not response.get("Failed"), response["Failed"]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(send, range(0, len(entries), 10)))
    elapsed = time.monotonic() - started
    print(
        f"\n[{ops.emulator}] {len(entries)} letters into the DLQ in {elapsed:.1f}s "
        f"({len(entries) / elapsed:.0f}/s)"
    )
    assert wait_for(lambda: ops.dlq()["visible"] == len(entries), timeout_s=30), ops.dlq()
    return Letters(ids=ids, types=types)


def test_peek_and_a_dry_run_consume_nothing(ops: Ops, letters: Letters) -> None:
    """peek shows ids, types, attempts and reasons; the dry run counts the slowdowns; all stay, visible."""
    peeked, _ = ops.cli("dlq", "peek", "archiver", "-n", "5")
    assert isinstance(peeked, list) and len(peeked) == 5
    for letter in peeked:
        assert letter["event_id"] in letters.all
        assert letter["attempts"] == "5"
        assert letter["reason"]["error_type"] in {"ContractError", "RetryableError", "ReadTimeoutError"}
    report, elapsed = ops.cli("dlq", "redrive", "archiver", "--filter", "reason~SlowDown", "--dry-run")
    assert isinstance(report, dict)
    assert (report["scanned"], report["matched"], report["moved"]) == (
        len(letters.all),
        len(letters.ids["slowdown"]),
        0,
    )
    print(f"\n[{ops.emulator}] dry run: scanned {report['scanned']} letters in {elapsed:.1f}s wall")
    full = {"visible": len(letters.all), "in_flight": 0}
    assert wait_for(lambda: ops.dlq() == full, timeout_s=30), ops.dlq()
    assert ops.client.queue_depth(ops.client.description["queues"]["archiver"]["url"]) == 0


def test_a_filtered_redrive_moves_exactly_the_matching_letters(ops: Ops, letters: Letters) -> None:
    """reason~SlowDown: those letters (and only those) leave the DLQ and reach the archive, once each."""
    slow = letters.ids["slowdown"]
    report, elapsed = ops.cli("dlq", "redrive", "archiver", "--filter", "reason~SlowDown")
    assert isinstance(report, dict)
    assert (report["moved"], report["failed"], report["delete_failed"]) == (len(slow), 0, 0), report
    assert report["method"] == "by message"
    print(
        f"\n[{ops.emulator}] filtered redrive: moved {report['moved']} of {report['scanned']} scanned in "
        f"{report['elapsed_s']:.1f}s = {report['rate_per_s']:.0f} msg/s moved "
        f"({report['scanned'] / report['elapsed_s']:.0f} letters/s scanned; {elapsed:.1f}s wall)"
    )
    rest = {"visible": len(letters.all) - len(slow), "in_flight": 0}
    assert wait_for(lambda: ops.dlq() == rest, timeout_s=30), ops.dlq()

    def stored() -> Counter[str] | None:
        found = ops.archived(letters.all)
        return found if set(found) >= slow else None

    archived = wait_for(stored, timeout_s=240, interval_s=3)
    assert archived, "the redriven letters did not all reach the archive"
    assert set(archived) == slow
    assert [i for i, n in archived.items() if n != 1] == []


def test_a_redrive_killed_midway_and_run_again_stores_every_event_once(ops: Ops, letters: Letters) -> None:
    """An unfiltered redrive, message by message, is SIGKILLed after a fifth of the letters; the re-run (a
    move task where the endpoint offers one) waits for the letters the dead run held; the archive ends
    with every event exactly once."""
    left = len(letters.all) - len(letters.ids["slowdown"])
    kill_after = len(letters.all) // 5
    command = ops.command("dlq", "redrive", "archiver", "--by-message", "--visibility", "15", "--json")
    started = time.monotonic()
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        gone = wait_for(
            lambda: left - ops.dlq()["visible"] >= kill_after or proc.poll() is not None, 300, 0.05
        )
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    killed_after = time.monotonic() - started
    assert gone and proc.returncode == -signal.SIGKILL, "the redrive finished before it could be killed"
    depth = ops.dlq()
    moved = left - depth["visible"] - depth["in_flight"]
    print(
        f"\n[{ops.emulator}] killed the by-message redrive after {killed_after:.1f}s: {moved} moved "
        f"(~{moved / killed_after:.0f} msg/s incl. start-up), {depth['in_flight']} left in flight"
    )

    report, elapsed = ops.cli("dlq", "redrive", "archiver", "--wait-in-flight")
    assert isinstance(report, dict)
    expected_method = "StartMessageMoveTask" if ops.emulator == "localstack" else "by message (fallback)"
    assert report["method"] == expected_method, report
    if report["method"].endswith("(fallback)"):
        assert len(report["notes"]) == 1 and "not offered here" in report["notes"][0]
    print(
        f"\n[{ops.emulator}] unfiltered redrive ({report['method']}): moved {report['moved']} in "
        f"{report['elapsed_s']:.1f}s = {report['rate_per_s']:.0f} msg/s ({elapsed:.1f}s wall, incl. waiting "
        f"for the killed run's letters)"
    )
    assert ops.dlq() == {"visible": 0, "in_flight": 0}

    started = time.monotonic()
    archived = _every_letter_archived(ops, letters)
    assert [i for i, n in archived.items() if n != 1] == []
    print(
        f"\n[{ops.emulator}] all {len(archived)} events archived once each, "
        f"{time.monotonic() - started:.0f}s later"
    )


def test_a_new_consumer_gets_the_full_history_from_the_archive(ops: Ops, letters: Letters) -> None:
    """A consumer provisioned now (queue, DLQ, rule) is backfilled with every archived event of its types,
    once each; a replay onto the bus reaches it through its rule and changes nothing in the archive."""
    client = ops.client
    if ops.dlq() != {"visible": 0, "in_flight": 0}:  # run alone (or first): archive the letters here
        ops.cli("dlq", "redrive", "archiver", "--wait-in-flight")
    _every_letter_archived(ops, letters)
    provision(
        sqs=client.aws("sqs"),
        events=client.aws("events"),
        s3=client.aws("s3"),
        bucket=client.description["bucket"],
        bus_name=client.description["bus_name"],
        manifests=[PROBE],
    )
    wanted = {i for i, t in letters.types.items() if t in {"sensor.reading", "device.registered"}}
    report, elapsed = ops.cli(
        "replay", "--from-archive", "--since", "3d", "--to-service", PROBE.name,
        "--type", "sensor.reading", "--type", "device.registered",
    )  # fmt: skip
    assert isinstance(report, dict)
    assert (report["published"], report["failed"]) == (len(wanted), 0), report
    print(
        f"\n[{ops.emulator}] replay to one service: {report['published']} events from {report['objects']} "
        f"objects in {report['elapsed_s']:.1f}s = {report['rate_per_s']:.0f} events/s ({elapsed:.1f}s wall)"
    )
    received = _drain(client, PROBE.name, expect=len(wanted))
    assert received == Counter(wanted)

    devices = {i for i, t in letters.types.items() if t == "device.registered"}
    bus_report, _ = ops.cli(
        "replay", "--from-archive", "--since", "3d", "--to-bus", "--type", "device.registered"
    )
    assert isinstance(bus_report, dict) and bus_report["published"] == len(devices)
    assert _drain(client, PROBE.name, expect=len(devices)) == Counter(devices)
    archiver_queue = client.description["queues"]["archiver"]["url"]
    assert wait_for(lambda: client.queue_depth(archiver_queue) == 0, timeout_s=60)  # it got them too
    archived = ops.archived(letters.all)
    assert set(archived) == letters.all and max(archived.values()) == 1


def _every_letter_archived(ops: Ops, letters: Letters) -> Counter[str]:
    """Wait until every letter's event is in the archive; how many times each is there."""

    def complete() -> Counter[str] | None:
        found = ops.archived(letters.all)
        return found if set(found) == letters.all else None

    return wait_for(
        complete,
        timeout_s=300,
        interval_s=3,
        what="every letter's event in the archive",
        seen=lambda: f"{len(letters.all - set(ops.archived(letters.all)))} of {len(letters.all)} missing",
    )


def _drain(client: StackClient, service: str, *, expect: int, timeout_s: float = 240) -> Counter[str]:
    """Receive and delete from ``service``'s queue until ``expect`` messages came (or time runs out)."""
    sqs = client.aws("sqs")
    url = sqs.get_queue_url(QueueName=f"{client.description['bus_name']}-{service}")["QueueUrl"]
    ids: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + timeout_s

    def one_round() -> int:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if got:
            with lock:
                ids.update(json.loads(m["Body"])["detail"]["id"] for m in got)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)],
            )
        return len(got)

    with ThreadPoolExecutor(max_workers=4) as pool:
        while sum(ids.values()) < expect and time.monotonic() < deadline:
            list(pool.map(lambda _: one_round(), range(4)))
    time.sleep(1)
    one_round()  # anything beyond what was expected would be a duplicate
    return ids
