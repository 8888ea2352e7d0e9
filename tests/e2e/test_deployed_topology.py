"""The deployed topology: the CDK app's stacks deployed into MiniStack's CloudFormation, services run with
their task definitions' environment (:class:`tributary.cloudformation.deployed.DeployedStack`).

The module deploys once, then:

- checks what was deployed: every stack complete, only the documented placeholders, each service process
  running with exactly its task definition's variables;
- runs the skeleton, graph and series flows against it in a child pytest given its ``stack.json``
  (``TRIBUTARY_STACK_FILE``: the suite's given-stack mode), so the queues, rules, policies and DLQs
  CloudFormation built carry the events; the notifier module needs a stack of its own (rules file, webhook
  receivers), so the notifier's flow here is an alert from the example rules, kept in its deployed table;
- updates the archiver's stack while events flow (new batch settings, a new task definition revision),
  restarts only the archiver with the new revision's environment, and checks every event is archived once
  and in the graph once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.testkit.bulk import TRADE_EDGES, trades
from shared.testkit.waiting import wait_for
from tests.e2e.conftest import E2E_SERVICE_ENV, archived_copies, e2e_emulators, trade_edges
from tributary.client import StackClient
from tributary.cloudformation.deployed import PLACEMENT, DeployedStack
from tributary.cloudformation.placeholders import MINISTACK_UNSERVED
from tributary.ministack import MiniStackEmulator

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EMULATOR = "ministack"
CHILD_TESTS = [
    "tests/e2e/test_skeleton.py",
    "tests/e2e/test_graph.py",
    "tests/e2e/test_series.py",
]
BATCH = 10
PACE_S = 0.1
MAX_UNDER_LOAD = 3000
# Per-process variables the supervisor sets beside the task definition's (the container's placement).
HOST_SET = {*PLACEMENT, "TRIBUTARY_REPLICA"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployedStack]:
    if EMULATOR not in e2e_emulators():
        pytest.skip("the deployed topology runs on MiniStack (host emulators including ministack)")
    data_dir = Path(tmp_path_factory.mktemp("deployed"))
    stack = DeployedStack(data_dir=data_dir, emulator=MiniStackEmulator(data_dir), settings=E2E_SERVICE_ENV)
    with stack:
        yield stack


def _process_env(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_every_stack_is_deployed_by_cloudformation(deployed: DeployedStack) -> None:
    """Core and the five service stacks are complete; only the documented types are placeholders; the
    description says who deployed it and its queues are the stacks' own."""
    description = deployed.describe()
    assert description["deployed_by"] == "cloudformation"
    stacks = description["cloudformation"]
    assert len(stacks) == 6, sorted(stacks)
    assert {s["status"] for s in stacks.values()} == {"CREATE_COMPLETE"}
    placeholder_types = {t for s in stacks.values() for t in s["placeholders"].values()}
    assert placeholder_types <= MINISTACK_UNSERVED | {"AWS::CloudWatch::Alarm (metric math)"}
    for name, queue in description["queues"].items():
        (stack,) = [s for s in stacks.values() if s["outputs"].get("QueueUrl") == queue["url"]]
        assert stack["outputs"]["DlqUrl"] == queue["dlq_url"], name
    assert description["state_backend"] == "dynamodb"  # the notifier's table, created by its stack
    assert Path(deployed.stack_file).is_file()


def test_each_service_runs_with_exactly_its_task_definition_environment(deployed: DeployedStack) -> None:
    """Every TRIBUTARY_* variable of a service process is its task definition's (placement mapped to the
    host), and every one of the task definition's is there: nothing from the host fills a gap."""
    for service, procs in deployed.supervisor.processes.items():
        declared = deployed.task_environment(service)
        env = _process_env(procs[0].pid)
        got = {k: v for k, v in env.items() if k.startswith("TRIBUTARY_")}
        assert set(got) - HOST_SET == set(declared) - HOST_SET, service
        assert {k: got[k] for k in set(declared) - HOST_SET} == {
            k: declared[k] for k in set(declared) - HOST_SET
        }
        assert env["AWS_ENDPOINT_URL"] == deployed.emulator.endpoint


def test_the_e2e_flows_pass_on_the_deployed_topology(deployed: DeployedStack, tmp_path: Path) -> None:
    """A child pytest in the given-stack mode runs the skeleton, graph, series and notifier flows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIBUTARY_", "AWS_"))}
    env["TRIBUTARY_STACK_FILE"] = str(deployed.stack_file)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:randomly",
            "-rs",
            "--durations=5",
            f"--basetemp={tmp_path / 'child'}",
            *CHILD_TESTS,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert f"e2e: on the stack in {deployed.stack_file}" in output, output[-3000:]
    summary = output.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    # Only the crash tests skip: they kill and restart workers of a stack of their own.
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    assert all("the crash test needs a local stack" in line for line in skipped), skipped
    print(summary)


def test_the_notifier_alerts_through_its_deployed_table(deployed: DeployedStack) -> None:
    """A reading over the example CO2 rule raises an alert: the notifier, run with its task definition's
    environment, keeps it in the DynamoDB table its stack created."""
    description = deployed.describe()
    device = f"dev-deployed-{os.getpid()}"
    reading = {
        "id": f"co2-{device}",
        "type": "sensor.reading",
        "version": 2,
        "source": "e2e.deployed",
        "time": datetime.now(UTC).isoformat(),
        "data": {
            "device_id": device,
            "site_id": "site-tokyo-01",
            "metric": "co2",
            "quantity": {"value": 1500, "unit": "ppm"},
            "quality": "good",
        },
    }
    client = StackClient(description)
    assert len(client.publish([reading]).accepted) == 1

    def alert() -> dict[str, Any] | None:
        alerts = httpx.get(f"{description['notifier_url']}/v1/alerts", timeout=30).json()["alerts"]
        return next((a for a in alerts if a["subject"] == device), None)

    raised = wait_for(alert, timeout_s=60)
    assert raised is not None, "no alert for the reading"
    assert raised["rule"] == "co2-high-tokyo"
    table = deployed.task_environment("notifier")["TRIBUTARY_STATE_TABLE"]
    (notifier_stack,) = [info for info in deployed.stacks.values() if info.name.endswith("-Notifier")]
    assert notifier_stack.physical_ids("AWS::DynamoDB::Table") == [table]
    items = client.aws("dynamodb").scan(TableName=table)["Items"]
    assert any(device in json.dumps(item) for item in items)


def test_a_per_service_deploy_under_load_loses_and_duplicates_nothing(deployed: DeployedStack) -> None:
    """While trades flow, the archiver's stack is updated (new batch settings: a new task definition
    revision) and only the archiver restarts with it; every event ends up archived once and in the graph
    once."""
    description = deployed.describe()
    client = StackClient(description)
    graph_url = description["graph_url"]
    tag = f"upd{os.getpid()}"
    others = {s: p["pids"] for s, p in description["services"].items() if s != "archiver"}
    before = deployed.task_environment("archiver")
    new_settings = {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1500", "TRIBUTARY_RECEIVE_WAIT_S": "2"}
    artifact = deployed.prepare_update("archiver", E2E_SERVICE_ENV["archiver"] | new_settings)  # synthesis

    sent: list[dict[str, Any]] = []
    stop = threading.Event()

    def publish() -> None:
        """Small requests, paced, until told to stop: the flow spans the stack update and the restart."""
        while not stop.is_set() and len(sent) < MAX_UNDER_LOAD:
            batch = trades(BATCH, prefix=f"{tag}-{len(sent):05d}", source="e2e.deployed")
            assert len(client.publish(batch).accepted) == len(batch)
            sent.extend(batch)
            stop.wait(PACE_S)

    base_edges = trade_edges(graph_url)
    dead_before = client.depths()["archiver"]["dlq"]
    flow = threading.Thread(target=publish)
    flow.start()
    try:
        wait_for(lambda: len(sent) >= 100, timeout_s=60)
        info = deployed.apply_update(artifact)
        sent_at_restart = len(sent)
        wait_for(lambda: len(sent) >= sent_at_restart + 100, timeout_s=60)  # and it keeps flowing after
    finally:
        stop.set()
        flow.join(timeout=60)
    assert not flow.is_alive()
    assert info.status == "UPDATE_COMPLETE"
    after = deployed.task_environment("archiver")
    assert after == before | new_settings and after != before
    env = _process_env(deployed.supervisor.processes["archiver"][0].pid)
    assert {k: env[k] for k in new_settings} == new_settings  # restarted with the new revision's values
    ids = {e["id"] for e in sent}
    assert len(ids) == len(sent) > sent_at_restart >= 100

    wait_for(
        lambda: (
            len(archived_copies(client, tag)) >= len(ids)
            and trade_edges(graph_url) - base_edges >= TRADE_EDGES * len(ids)
        ),
        timeout_s=240,
    )
    wait_for(lambda: client.depths()["archiver"]["queue"] == 0, timeout_s=60)
    copies = archived_copies(client, tag)
    lost = ids - set(copies)
    duplicated = sorted(k for k, n in copies.items() if n > 1)
    print(
        f"under load: {len(ids)} events ({sent_at_restart} before the restart),"
        f" lost {len(lost)}, duplicated {len(duplicated)}"
    )
    assert (len(lost), duplicated) == (0, [])
    assert set(copies) == ids
    assert trade_edges(graph_url) - base_edges == TRADE_EDGES * len(ids)
    now = {s: p["pids"] for s, p in deployed.describe()["services"].items() if s != "archiver"}
    assert now == others, "only the archiver may restart"
    assert client.depths()["archiver"]["dlq"] == dead_before
