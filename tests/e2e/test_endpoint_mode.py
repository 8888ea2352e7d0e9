"""The e2e suite runs unchanged against an emulator it does not start (``LOCALSTACK_ENDPOINT``).

This test starts a MiniStack itself, as docker compose or ``localstack start`` would, and runs part of the
suite in a child pytest with ``LOCALSTACK_ENDPOINT=127.0.0.1:<port>`` (the ``host:port`` form, read by the
``localstack-client`` package): the child's stack must provision into that emulator and run its services
against it, start no emulator of its own, and leave the emulator running when it stops.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import e2e_emulators
from tributary.aws import emulator_client
from tributary.emulators import EMULATORS
from tributary.ministack import MiniStackEmulator

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHILD_TESTS = [
    "tests/e2e/test_skeleton.py::test_archived_objects_are_partitioned_and_hold_the_envelope",
    "tests/e2e/test_skeleton.py::test_poison_message_lands_in_the_dlq_with_its_reason",
    "tests/e2e/test_stack_hygiene.py",
]


@pytest.fixture(scope="module")
def outside_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniStackEmulator]:
    if any(name not in EMULATORS for name in e2e_emulators()):
        pytest.skip("already running on an endpoint or a given stack")
    emulator = MiniStackEmulator(tmp_path_factory.mktemp("outside-emulator"))
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def test_the_suite_runs_against_an_emulator_it_does_not_start(
    outside_emulator: MiniStackEmulator, tmp_path: Path
) -> None:
    """A child pytest on ``LOCALSTACK_ENDPOINT`` passes, provisions a bus of its own into the given
    emulator and leaves that emulator running."""
    host_port = outside_emulator.endpoint.removeprefix("http://")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIBUTARY_", "AWS_"))}
    env["LOCALSTACK_ENDPOINT"] = host_port
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:randomly",
            f"--basetemp={tmp_path / 'child'}",
            *CHILD_TESTS,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert f"e2e: on the endpoint http://{host_port} (LOCALSTACK_ENDPOINT), no emulator started" in output
    assert "4 passed" in output, output[-2000:]
    logs = {p.name for p in (tmp_path / "child").glob("stack-endpoint*/logs/*.log")}
    assert "ingest.log" in logs and "archiver.log" in logs, logs
    assert not logs & {f"{name}.log" for name in EMULATORS}, f"the child started an emulator: {logs}"

    assert outside_emulator.pid is not None
    os.kill(outside_emulator.pid, 0)  # still running: the child's stack left it alone
    events = emulator_client("events", outside_emulator.endpoint)
    buses = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert [b for b in buses if b.startswith("tributary-")], buses
    assert "tributary" not in buses, "a stack on a shared endpoint must not take the default bus name"
