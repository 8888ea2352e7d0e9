"""The e2e suite's stacks: a fresh local stack per emulator, or the running one in ``TRIBUTARY_STACK_FILE``.

Tests see only a stack's description (``stack.json``) and talk to its endpoints, so the same tests run
against LocalStack and MiniStack on the host, an emulator elsewhere, or a deployment on AWS. Without
``TRIBUTARY_STACK_FILE`` every e2e test runs once per emulator in ``TRIBUTARY_E2E_EMULATORS`` (default: both);
pytest groups the tests by emulator, so each emulator's stack starts once.

A test that needs an API only some emulators offer is marked
``@pytest.mark.emulators("localstack", reason=…)`` and is skipped on the others with that reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ingest.manifest import MANIFEST as INGEST
from shared.manifest import ServiceManifest
from tributary.client import StackClient
from tributary.emulators import EMULATORS, make_emulator
from tributary.stack import Stack

# Short waits so a test's end state is reached in seconds, not in production-sized batching windows.
E2E_SERVICE_ENV = {
    "archiver": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
    "graph_writer": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
    "timeseries_writer": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
}


def e2e_emulators() -> list[str]:
    """The emulators the suite runs on: ``external`` when a stack file is given."""
    if os.environ.get("TRIBUTARY_STACK_FILE"):
        return ["external"]
    names = [n.strip() for n in os.environ.get("TRIBUTARY_E2E_EMULATORS", ",".join(EMULATORS)).split(",")]
    unknown = [n for n in names if n not in EMULATORS]
    if unknown:
        raise pytest.UsageError(f"TRIBUTARY_E2E_EMULATORS names unknown emulators: {unknown}")
    return names


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulators(*names, reason): run only on these emulators")


@pytest.fixture(scope="session", params=e2e_emulators())
def emulator_name(request: pytest.FixtureRequest) -> str:
    """The emulator this test runs on (``external`` for a given stack file)."""
    name: str = request.param
    return name


@pytest.fixture(autouse=True)
def _only_on_marked_emulators(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("emulators")
    if marker is None or "emulator_name" not in request.fixturenames:
        return
    name = request.getfixturevalue("emulator_name")
    if name != "external" and name not in marker.args:
        pytest.skip(f"not on {name}: {marker.kwargs.get('reason', 'needs ' + ', '.join(marker.args))}")


def start_stack(
    emulator: str, data_dir: Path, *, service_env: dict[str, dict[str, str]] | None = None, **kwargs: Any
) -> Stack:
    """A stack on ``emulator`` (not started); for modules that need their own stack to kill or restart."""
    return Stack(
        data_dir=data_dir, emulator=make_emulator(emulator, data_dir), service_env=service_env, **kwargs
    )


def run_crash_stack(manifest: ServiceManifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """ingest and ``manifest``'s service alone on the first emulator, with a 10 s visibility timeout so a
    killed worker's messages come back soon; for tests that SIGKILL and restart a worker."""
    emulators = e2e_emulators()
    if emulators == ["external"]:
        pytest.skip("the crash test needs a local stack whose processes it can kill")
    service = replace(manifest, queue=replace(manifest.queue, visibility_timeout_s=10))
    env = {manifest.name: {"TRIBUTARY_RECEIVE_WAIT_S": "1", "TRIBUTARY_BATCH_MAX_WAIT_MS": "2000"}}
    data_dir = Path(tmp_path_factory.mktemp(f"{manifest.name}-crash"))
    with start_stack(emulators[0], data_dir, service_env=env, manifests=[INGEST, service]) as stack:
        yield stack


@pytest.fixture(scope="session")
def stack_description(
    emulator_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    external = os.environ.get("TRIBUTARY_STACK_FILE")
    if external:
        yield json.loads(Path(external).read_text(encoding="utf-8"))
        return
    data_dir = tmp_path_factory.mktemp(f"stack-{emulator_name}")
    with start_stack(emulator_name, data_dir, service_env=E2E_SERVICE_ENV) as stack:
        yield stack.describe()


@pytest.fixture(scope="session")
def stack(stack_description: dict[str, Any]) -> StackClient:
    return StackClient(stack_description)
