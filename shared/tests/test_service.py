"""The one service definition: Service, the manifest's builder and settings, refusals, the entry points.

The builders here are module attributes of this test module, referenced by import path as a manifest
names them (``shared_tests_service_probe`` is this module, registered in ``sys.modules`` below).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import Field

from contracts import Envelope
from shared import lambda_entry
from shared.manifest import ServiceManifest, load_manifest
from shared.service import Service, StartupError
from shared.settings import WorkerSettings
from shared.start import StartRefused, load_settings
from shared.testing import InMemoryQueue

PROBE = "shared_tests_service_probe"
sys.modules.setdefault(PROBE, sys.modules[__name__])


class ProbeSettings(WorkerSettings):
    service: str = "probe"
    secret_knob: int = Field(default=1, ge=0)


def _handle(events: Sequence[Envelope]) -> Mapping[str, Exception]:
    return {}


def build(settings: ProbeSettings) -> Service:
    return Service(name="probe", settings=settings, queue=InMemoryQueue(), handler=_handle)


def refuse(settings: ProbeSettings) -> Service:
    raise StartupError("the probe store is not configured\nand a second reason")


def not_a_service(settings: ProbeSettings) -> object:
    return (InMemoryQueue(), _handle)


def _manifest(builder: str = "build") -> ServiceManifest:
    return ServiceManifest(name="probe", builder=f"{PROBE}:{builder}", settings=f"{PROBE}:ProbeSettings")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("TRIBUTARY_QUEUE_URL", "http://127.0.0.1:1/q")
    monkeypatch.setenv("TRIBUTARY_DLQ_URL", "http://127.0.0.1:1/dlq")
    monkeypatch.setenv("TRIBUTARY_DATA_DIR", str(tmp_path))
    return tmp_path


def test_the_manifest_builds_its_service_from_its_settings(env: Path) -> None:
    """Settings class and builder are resolved by import path, only when asked for."""
    manifest = _manifest()
    settings = load_settings(manifest)
    assert isinstance(settings, ProbeSettings)
    service = manifest.build(settings)
    assert service.is_worker and service.settings is settings and service.api is None


def test_a_builder_that_returns_something_else_is_a_type_error(env: Path) -> None:
    manifest = _manifest("not_a_service")
    with pytest.raises(TypeError, match=r"not a shared\.service\.Service"):
        manifest.build(load_settings(manifest))


def test_a_manifest_that_is_never_started_names_no_builder() -> None:
    """Provisioning-only manifests (benchmark sinks, tests) leave builder and settings empty."""
    with pytest.raises(LookupError, match="never started"):
        ServiceManifest(name="sink").settings_class()


def test_the_builder_may_refuse_the_start(env: Path) -> None:
    manifest = _manifest("refuse")
    with pytest.raises(StartupError) as refused:
        manifest.build(load_settings(manifest))
    assert refused.value.lines() == ["the probe store is not configured", "and a second reason"]


def test_settings_problems_name_the_variable_never_the_value(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing and an invalid setting: each named by its variable; the value given is not repeated."""
    monkeypatch.delenv("TRIBUTARY_DLQ_URL")
    monkeypatch.setenv("TRIBUTARY_SECRET_KNOB", "hunter2")
    with pytest.raises(StartRefused) as refused:
        load_settings(_manifest())
    assert sorted(refused.value.lines()) == [
        "invalid setting TRIBUTARY_SECRET_KNOB (int_parsing)",
        "missing setting TRIBUTARY_DLQ_URL",
    ]
    assert "hunter2" not in str(refused.value)


def test_closers_run_last_first_and_a_failing_one_does_not_stop_the_rest() -> None:
    closed: list[str] = []

    def broken() -> None:
        closed.append("broken")
        raise OSError("already gone")

    service = Service(
        name="probe",
        settings=ProbeSettings(queue_url="q", dlq_url="d"),
        queue=InMemoryQueue(),
        handler=_handle,
        closers=[lambda: closed.append("first"), broken, lambda: closed.append("last")],
    )
    service.close()
    assert closed == ["last", "broken", "first"]


def test_a_service_runs_something() -> None:
    """A queue needs a handler, and a service with neither a queue nor an API has nothing to run."""
    settings = ProbeSettings(queue_url="q", dlq_url="d")
    with pytest.raises(ValueError, match="both a queue and a batch handler"):
        Service(name="probe", settings=settings, queue=InMemoryQueue())
    with pytest.raises(ValueError, match="nothing to run"):
        Service(name="probe", settings=settings)


def test_an_unknown_service_name_lists_the_installed_ones() -> None:
    with pytest.raises(LookupError, match=r"no service called 'nope' is installed \(installed: .*archiver"):
        load_manifest("nope")


class _Check:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def check(self) -> dict[str, int]:
        return self.counts


class _NoCheck:
    def start(self) -> None: ...

    def stop(self) -> None: ...


@pytest.fixture
def lambda_runtime() -> Iterator[None]:
    lambda_entry.reset()
    yield
    lambda_entry.reset()


def test_the_lambda_entry_needs_the_service_name(
    lambda_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRIBUTARY_SERVICE", raising=False)
    with pytest.raises(StartupError, match="TRIBUTARY_SERVICE is not set"):
        lambda_entry.handler({"Records": []}, SimpleNamespace())


def test_a_scheduled_invocation_sums_the_checks_of_the_tasks_that_have_one() -> None:
    """Tasks with ``check()`` run one pass each; tasks without are left alone."""
    tasks = [_Check({"sent": 1}), _NoCheck(), _Check({"sent": 2, "failed": 1})]
    assert lambda_entry.run_checks(tasks) == {"sent": 3, "failed": 1}
