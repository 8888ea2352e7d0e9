"""The commands end to end over moto (the AWS path: ``--region``), through typer's runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from typer.testing import CliRunner

from archiver.domain import encode, object_key, partition_events
from contracts import Envelope
from shared.testkit.envelopes import envelope
from tributary.cli import app
from tributary.operators import cli_support
from tributary.operators.target import QueuePair
from tributary.provision import provision

AWS = ["--region", "us-east-1"]
BUCKET = "tributary-archive-test"


@pytest.fixture
def pair(aws: None) -> QueuePair:
    """Every installed service provisioned in moto as the stack does; the archiver's pair."""
    clients = {name: boto3.client(name, region_name="us-east-1") for name in ("sqs", "events", "s3", "sns")}
    topology = provision(**clients, bucket=BUCKET, bus_name="tributary")
    queues = topology.queues["archiver"]
    return QueuePair(service="archiver", url=queues.url, dlq_url=queues.dlq_url)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The commands send library logs to stderr; other tests keep their own structlog set-up."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables at a terminal's width, not the 80 columns rich assumes for a pipe."""
    monkeypatch.setattr(cli_support.console, "width", 200)


def run(*args: str, input: str | None = None) -> Any:
    result = CliRunner().invoke(app, [*args, *AWS], input=input)
    return result


def test_help_lists_the_operator_commands() -> None:
    """topology, status, dlq (list, peek, redrive, purge) and replay are there, beside up and demo."""
    out = CliRunner().invoke(app, ["--help"]).output
    assert all(name in out for name in ("up", "demo", "topology", "status", "dlq", "replay"))
    dlq = CliRunner().invoke(app, ["dlq", "--help"]).output
    assert all(name in dlq for name in ("list", "peek", "redrive", "purge"))


def test_topology_shows_each_worker_with_queue_and_rule(pair: QueuePair) -> None:
    """Queues come from <bus>-<svc> names on AWS."""
    result = run("topology", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["archiver"]["queue"]["dlq_url"] == pair.dlq_url
    assert rows["archiver"]["rule_state"] == "ENABLED"
    assert rows["ingest"]["queue"] is None
    table = run("topology")
    assert "tributary-archiver" in table.output and "Tributary topology" in table.output


def test_dlq_list_and_status(pair: QueuePair, fill: Callable[..., list[Envelope]]) -> None:
    """list shows every DLQ with its depth; status adds queues and says ages come from a peek here."""
    fill(["timeout"] * 4)
    listed = run("dlq", "list", "--json")
    assert listed.exit_code == 0, listed.output
    depths = {r["service"]: r["counts"]["visible"] for r in json.loads(listed.output)}
    assert depths["archiver"] == 4
    status = run("status")
    assert status.exit_code == 0, status.output
    assert "tributary-archiver-dlq" in status.output and "peek" in status.output
    assert "Workers" in status.output


def test_peek_json_has_ids_types_attempts_and_reasons(
    pair: QueuePair, fill: Callable[..., list[Envelope]]
) -> None:
    """-n 3 --json: three letters, reasons included; the DLQ still holds all five."""
    events = fill(["slowdown"] * 5)
    result = run("dlq", "peek", "archiver", "-n", "3", "--json")
    assert result.exit_code == 0, result.output
    letters = json.loads(result.output)
    assert len(letters) == 3
    assert {le["event_id"] for le in letters} <= {e.id for e in events}
    assert letters[0]["attempts"] == "5" and letters[0]["reason"]["error_type"] == "RetryableError"
    assert letters[0]["type"] == "sensor.reading"
    assert json.loads(run("dlq", "list", "--json").output)[0]["counts"]["visible"] == 5


def test_filtered_redrive_and_dry_run(
    pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """--dry-run counts, moves nothing; the real run moves the matching letters and prints the rate."""
    fill(["contract", "slowdown", "timeout"] * 3)
    dry = run("dlq", "redrive", "archiver", "--filter", "reason~Timeout", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["matched"] == 3 and json.loads(dry.output)["moved"] == 0
    assert counts(pair.url) == (0, 0)
    real = run("dlq", "redrive", "archiver", "--filter", "reason~Timeout", "--rate", "100/s")
    assert real.exit_code == 0, real.output
    assert "moved 3" in real.output and "msg/s" in real.output
    assert counts(pair.url) == (3, 0) and counts(pair.dlq_url) == (6, 0)


def test_unfiltered_redrive_says_once_that_it_falls_back(
    pair: QueuePair, fill: Callable[..., list[Envelope]]
) -> None:
    """moto offers no move task: one note, then every letter moves."""
    fill(["contract"] * 4)
    result = run("dlq", "redrive", "archiver")
    assert result.exit_code == 0, result.output
    assert result.output.count("StartMessageMoveTask is not offered here") == 1
    assert "moved 4" in result.output


def test_purge_asks_first(
    pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any, tmp_path: Path
) -> None:
    """No at the prompt removes nothing; --yes removes, prints what, and saves it."""
    fill(["contract", "timeout"])
    declined = run("dlq", "purge", "archiver", input="n\n")
    assert declined.exit_code == 1 and "nothing removed" in declined.output
    assert counts(pair.dlq_url) == (2, 0)
    saved = tmp_path / "purged.ndjson"
    done = run("dlq", "purge", "archiver", "--yes", "--save", str(saved))
    assert done.exit_code == 0, done.output
    assert "removed 2 messages from tributary-archiver-dlq" in done.output
    assert "ContractError" in done.output and "ReadTimeoutError" in done.output
    assert len(saved.read_text().splitlines()) == 2
    assert counts(pair.dlq_url) == (0, 0)


def test_replay_to_a_service(pair: QueuePair, counts: Any) -> None:
    """Archived events in range go to the archiver's queue only."""
    s3 = boto3.client("s3", region_name="us-east-1")
    now = datetime.now(UTC)
    history = [envelope("sensor.reading", time=now - timedelta(hours=i)) for i in range(6)]
    for partition, group in partition_events(history).items():
        s3.put_object(Bucket=BUCKET, Key=object_key(partition, "F"), Body=encode(group))
    result = run(
        "replay", "--from-archive", "--since", "3h", "--to-service", "archiver", "--bucket", BUCKET, "--json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["published"] == 3 and report["failed"] == 0
    assert counts(pair.url) == (3, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dlq", "redrive", "archiver", "--filter", "colour=red"], "unknown filter key"),
        (["dlq", "redrive", "archiver", "--to", "elsewhere"], "--to must be queue or bus"),
        (["dlq", "peek", "nobody"], "no queue 'tributary-nobody'"),
        (["replay", "--since", "1h", "--to-bus"], "--from-archive"),
        (["replay", "--from-archive", "--since", "1h"], "--to-service SERVICE or --to-bus"),
        (["replay", "--from-archive", "--since", "1h", "--to-bus"], "--bucket"),
    ],
)
def test_mistakes_get_one_clear_line_and_exit_2(pair: QueuePair, args: list[str], message: str) -> None:
    """Bad input is named; no traceback."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_without_a_stack_or_aws_flags_it_says_so(tmp_path: Path) -> None:
    """The local path needs stack.json."""
    result = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no stack running" in result.output
