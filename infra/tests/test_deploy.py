"""Per-service deploys on a running LocalStack: `tributary provision` and `tributary deploy SERVICE`."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shared.testkit.envelopes import envelope
from tributary import deploy as deploy_module
from tributary.aws import emulator_client
from tributary.cli import app
from tributary.deploy import deploy, provision_only
from tributary.emulator import EmulatorError
from tributary.endpoint import EndpointEmulator
from tributary.localstack import LocalStackEmulator
from tributary.stack import Stack


@pytest.fixture
def names(localstack: LocalStackEmulator) -> dict[str, str]:
    """A bus and a bucket of this test only (the bucket's host folder is removed with the emulator)."""
    token = secrets.token_hex(4)
    bucket = f"deploy-{token}"
    localstack.track_bucket(bucket)
    return {"bus_name": f"d{token}", "bucket": bucket}


def _wait_for_objects(s3: Any, bucket: str, *, timeout_s: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        if keys:
            return keys
        time.sleep(0.3)
    return []


def test_provision_only_builds_the_chosen_services(
    localstack: LocalStackEmulator, names: dict[str, str]
) -> None:
    """Only the named service gets a queue, DLQ and rule; the bus and bucket exist."""
    topology = provision_only(endpoint=localstack.endpoint, services=["archiver"], **names)
    assert sorted(topology.queues) == ["archiver"]
    assert topology.queues["archiver"].url.endswith(f"/{names['bus_name']}-archiver")
    s3 = emulator_client("s3", localstack.endpoint)
    s3.head_bucket(Bucket=names["bucket"])


def test_provision_command_prints_the_topology(localstack: LocalStackEmulator, names: dict[str, str]) -> None:
    """`tributary provision --endpoint URL` provisions every installed service and prints what it built."""
    args = ["provision", "--endpoint", localstack.endpoint, "--bus-name", names["bus_name"]]
    result = CliRunner().invoke(app, [*args, "--bucket", names["bucket"]])
    assert result.exit_code == 0, result.output
    assert f"{names['bus_name']}-archiver-dlq" in result.output
    assert "Provisioned" in result.output


def test_deploy_runs_one_service_that_archives_events(
    localstack: LocalStackEmulator, names: dict[str, str], tmp_path: Path
) -> None:
    """`deploy("archiver")`: its queue and rule exist, its process is healthy and archives an event."""
    stack: Stack = deploy(
        "archiver",
        endpoint=localstack.endpoint,
        data_dir=tmp_path / "archiver",
        service_env={"TRIBUTARY_BATCH_MAX_WAIT_MS": "100", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
        **names,
    )
    try:
        assert sorted(stack.topology.queues) == ["archiver"]
        (proc,) = stack.supervisor.processes["archiver"]
        assert proc.alive
        event = envelope()
        events = emulator_client("events", localstack.endpoint)
        entry = {
            "EventBusName": names["bus_name"],
            "Source": "test",
            "DetailType": event.detail_type,
            "Detail": event.model_dump_json(),
        }
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
        keys = _wait_for_objects(emulator_client("s3", localstack.endpoint), names["bucket"])
        assert keys and keys[0].startswith(f"events/type={event.type}/version={event.version}/")
    finally:
        stack.stop()
    assert not proc.alive
    # the emulator and the topology stay: a per-service deploy leaves the rest alone
    sqs = emulator_client("sqs", localstack.endpoint)
    assert sqs.get_queue_url(QueueName=f"{names['bus_name']}-archiver")["QueueUrl"]


def test_deploy_command_prints_what_it_did_and_stops(
    localstack: LocalStackEmulator, names: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tributary deploy SERVICE --target localstack` prints the topology and the process, then drains."""
    seen: dict[str, Any] = {}

    def interrupted(stack: Stack, service: str) -> int:
        seen["pids"] = [p.pid for p in stack.supervisor.processes[service]]
        raise KeyboardInterrupt

    monkeypatch.setattr(deploy_module, "_wait_while_running", interrupted)
    args = ["deploy", "archiver", "--target", "localstack", "--endpoint", localstack.endpoint]
    args += ["--bus-name", names["bus_name"], "--bucket", names["bucket"], "--data-dir", str(tmp_path / "d")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"{names['bus_name']}-archiver" in result.output
    assert "archiver running" in result.output
    assert "stopping archiver" in result.output
    assert not any(Path(f"/proc/{pid}").exists() for pid in seen["pids"])


def test_deploy_refuses_an_unknown_service(localstack: LocalStackEmulator) -> None:
    result = CliRunner().invoke(app, ["deploy", "billing", "--endpoint", localstack.endpoint])
    assert result.exit_code == 1
    assert "unknown service 'billing'" in result.output


def test_no_emulator_at_the_endpoint_is_a_clear_error() -> None:
    """Nothing listening: the error names the URL instead of a connection traceback."""
    with pytest.raises(EmulatorError, match="is it running"):
        EndpointEmulator("http://127.0.0.1:9", name="localstack", timeout_s=0.5).start()
