"""The e2e suite's stacks, in three modes; tests see only a stack's description (``stack.json``).

- **Host emulators** (default): a fresh local stack per emulator in ``TRIBUTARY_E2E_EMULATORS`` (default:
  both LocalStack and MiniStack, started on the host); pytest groups the tests by emulator, so each
  emulator's stack starts once.
- **An external endpoint**: ``LOCALSTACK_ENDPOINT`` (a URL or ``host:port``, e.g. the docker-compose
  LocalStack) names an emulator something else runs; the stacks start no emulator, they provision into
  that one (a bus of their own) and run the services against it.
- **A running or deployed stack**: ``TRIBUTARY_STACK_FILE`` is its description; one whose
  ``aws_endpoint`` is null is on AWS and is reached with the standard credential chain.
  ``TRIBUTARY_E2E_EMULATORS=aws`` asks for that mode; without a stack file, or without credentials, the
  tests are skipped and the header says why.

Tests talk only to the description's endpoints, so the same tests run in every mode. A test that needs an
API only some emulators offer is marked ``@pytest.mark.emulators("localstack", reason=…)`` and is skipped on
the others with that reason. Tests that build stacks of their own (to kill workers, to configure rules)
skip on an ``external`` stack and run on an endpoint.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.manifest import MANIFEST as INGEST
from shared.manifest import ServiceManifest
from tributary.aws import credentials_available
from tributary.client import StackClient
from tributary.emulators import EMULATORS, ENDPOINT, make_emulator
from tributary.endpoint import ENDPOINT_ENV, endpoint_from_env
from tributary.stack import Stack

# Short waits so a test's end state is reached in seconds, not in production-sized batching windows (nor in
# ingest's production deadlines for slow clients: 10 s for headers, 30 s for a body).
E2E_SERVICE_ENV = {
    "ingest": {"TRIBUTARY_HEADER_TIMEOUT_S": "3", "TRIBUTARY_BODY_TIMEOUT_S": "5"},
    "archiver": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
    "graph_writer": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
    "timeseries_writer": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
}


def e2e_emulators() -> list[str]:
    """The stacks the suite runs on: ``external`` for a given stack file (or ``aws``), ``endpoint`` for
    ``LOCALSTACK_ENDPOINT``, else host emulators."""
    if os.environ.get("TRIBUTARY_STACK_FILE"):
        return ["external"]
    if os.environ.get(ENDPOINT_ENV):
        return [ENDPOINT]
    names = [n.strip() for n in os.environ.get("TRIBUTARY_E2E_EMULATORS", ",".join(EMULATORS)).split(",")]
    if names == ["aws"]:
        return ["external"]
    unknown = [n for n in names if n not in EMULATORS]
    if unknown:
        raise pytest.UsageError(f"TRIBUTARY_E2E_EMULATORS names unknown emulators: {unknown} (or: aws)")
    return names


def external_stack() -> tuple[dict[str, Any] | None, str]:
    """The given stack's description, or ``None`` and why the suite cannot run on it."""
    path = os.environ.get("TRIBUTARY_STACK_FILE")
    if not path:
        return None, "real AWS: no deployed stack given (TRIBUTARY_STACK_FILE=<its stack.json>)"
    description: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if description.get("aws_endpoint") is None and not credentials_available():
        return None, f"real AWS: {path} is a stack on AWS, but no AWS credentials are configured"
    return description, f"the stack in {path} ({description.get('aws_endpoint') or 'AWS'})"


def pytest_report_header(config: pytest.Config) -> str:
    modes = e2e_emulators()
    if modes == ["external"]:
        description, why = external_stack()
        return f"e2e: on {why}" if description else f"e2e: skipped: {why}"
    if modes == [ENDPOINT]:
        return f"e2e: on the endpoint {endpoint_from_env()} ({ENDPOINT_ENV}), no emulator started"
    return f"e2e: on host emulators {', '.join(modes)}"


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
    if name not in {"external", ENDPOINT} and name not in marker.args:
        pytest.skip(f"not on {name}: {marker.kwargs.get('reason', 'needs ' + ', '.join(marker.args))}")


def start_stack(
    emulator: str, data_dir: Path, *, service_env: dict[str, dict[str, str]] | None = None, **kwargs: Any
) -> Stack:
    """A stack on ``emulator`` (not started); for modules that need their own stack to kill or restart."""
    return Stack(
        data_dir=data_dir, emulator=make_emulator(emulator, data_dir), service_env=service_env, **kwargs
    )


def run_crash_stack(manifest: ServiceManifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """ingest and ``manifest``'s service alone, with a 10 s visibility timeout so a killed worker's messages
    come back soon; for tests that SIGKILL and restart a worker. On MiniStack when the suite runs on it (the
    test is about the worker, not the emulator: the faster one), else on the suite's emulator."""
    emulators = e2e_emulators()
    if emulators == ["external"]:
        pytest.skip("the crash test needs a local stack whose processes it can kill")
    emulator = "ministack" if "ministack" in emulators else emulators[0]
    service = replace(manifest, queue=replace(manifest.queue, visibility_timeout_s=10))
    env = {manifest.name: {"TRIBUTARY_RECEIVE_WAIT_S": "1", "TRIBUTARY_BATCH_MAX_WAIT_MS": "2000"}}
    data_dir = Path(tmp_path_factory.mktemp(f"{manifest.name}-crash"))
    with start_stack(emulator, data_dir, service_env=env, manifests=[INGEST, service]) as stack:
        yield stack


@pytest.fixture(scope="session")
def stack_description(
    emulator_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    if emulator_name == "external":
        description, why = external_stack()
        if description is None:
            pytest.skip(why)
        yield description
        return
    data_dir = tmp_path_factory.mktemp(f"stack-{emulator_name}")
    with start_stack(emulator_name, data_dir, service_env=E2E_SERVICE_ENV) as stack:
        yield stack.describe()


@pytest.fixture(scope="session")
def stack(stack_description: dict[str, Any]) -> StackClient:
    return StackClient(stack_description)


def trade_edges(graph_url: str) -> int:
    """The graph's ``TRADED_TO`` and ``LEFT`` relationships: :data:`~shared.testkit.bulk.TRADE_EDGES` per
    trade of :func:`~shared.testkit.bulk.trades`."""
    rels = httpx.get(f"{graph_url}/graph/stats", timeout=30).json()["relationships"]
    return int(rels.get("TRADED_TO", 0) + rels.get("LEFT", 0))


def archived_copies(client: StackClient, prefix: str = "") -> Counter[str]:
    """How many archived copies each event id whose id starts with ``prefix`` has."""
    return Counter(
        str(envelope["id"])
        for _, envelope in client.archived()
        if str(envelope.get("id", "")).startswith(prefix)
    )
