"""Fixtures for the local-stack tests: one LocalStack per test process, tiny services, manifests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.manifest import QueueSettings, ServiceManifest, Subscription
from tributary.localstack import LocalStackEmulator

SUPPORT = Path(__file__).parent / "support"

# Modules whose tests start an emulator or a whole stack: marked ``stack``, left out by `make test-fast`.
STACK_MODULES = {"test_deploy", "test_emulator", "test_endpoint", "test_provision", "test_stack"}
STACK_TESTS = {"test_up_runs_until_sigterm_then_cleans_up"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        if item.path.stem in STACK_MODULES or getattr(item, "originalname", item.name) in STACK_TESTS:
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackEmulator]:
    """One LocalStack for every module of the test process (tests use distinct bus and bucket names): a
    start costs seconds of both cores, and under xdist a module's tests may run in either process."""
    emulator = LocalStackEmulator(tmp_path_factory.mktemp("localstack"))
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def tiny_env() -> dict[str, str]:
    """The environment a tiny service needs: its folder on PYTHONPATH."""
    return {"PYTHONPATH": str(SUPPORT)}


@pytest.fixture
def tiny_manifest() -> Callable[..., ServiceManifest]:
    """Builds a manifest whose process is ``support/tiny_service.py`` (needs ``tiny_env``)."""

    def build(name: str, *, worker: bool = False, max_receive_count: int = 10) -> ServiceManifest:
        consumes = (Subscription(type="sensor.reading", versions=(1,)),) if worker else ()
        return ServiceManifest(
            name=name,
            builder="tiny_service:never",  # the tests launch it as a script: never resolved
            settings="tiny_service:never",
            consumes=consumes,
            http=not worker,
            queue=QueueSettings(max_receive_count=max_receive_count),
            url_key=None if worker else f"{name}_url",
        )

    return build
