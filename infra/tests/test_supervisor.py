"""The supervisor: processes with their environment, health, kill, restart, replicas, stop."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shared.manifest import ServiceManifest
from tributary.processes import ProcessStartError
from tributary.supervisor import ServiceSpec, Supervisor, exit_reason

BASE_ENV = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "TRIBUTARY_BUS_NAME": "bus"}
TINY = ("-m", "tiny_service")  # the tiny service ignores the name argument the supervisor adds


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    sup = Supervisor(
        data_dir=tmp_path, base_env=BASE_ENV, launcher=TINY, health_timeout_s=10, stop_timeout_s=5
    )
    yield sup
    sup.stop()


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def _healthz(url: str) -> int:
    return httpx.get(f"{url}/healthz", trust_env=False).status_code


def test_start_gives_each_process_its_environment(
    supervisor: Supervisor,
    tmp_path: Path,
    tiny_manifest: Callable[..., ServiceManifest],
    tiny_env: dict[str, str],
) -> None:
    """A service is healthy on its own loopback port with the stack's and its own variables."""
    supervisor.start([ServiceSpec(manifest=tiny_manifest("alpha"), env={**tiny_env, "TINY_KNOB": "7"})])
    (proc,) = supervisor.processes["alpha"]
    assert _healthz(proc.url) == 200
    env = json.loads((tmp_path / "services" / "alpha" / "env.0.json").read_text())
    assert env["TRIBUTARY_SERVICE"] == "alpha"
    assert env["TRIBUTARY_HTTP_HOST"] == "127.0.0.1"
    assert env["TRIBUTARY_HTTP_PORT"] == str(proc.port)
    assert env["TRIBUTARY_DATA_DIR"] == str(tmp_path / "services" / "alpha")
    assert env["AWS_ENDPOINT_URL"] == BASE_ENV["AWS_ENDPOINT_URL"]
    assert env["TINY_KNOB"] == "7"
    assert env["MALLOC_ARENA_MAX"] == os.environ.get("MALLOC_ARENA_MAX", "2")
    assert "tiny_service: serving" in proc.log_path.read_text()
    assert proc.log_path == tmp_path / "logs" / "alpha.log"


def test_stop_drains_with_sigterm(
    supervisor: Supervisor, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """stop() ends every process with SIGTERM; the service gets to run its shutdown."""
    supervisor.start([ServiceSpec(manifest=tiny_manifest(n), env=tiny_env) for n in ("a", "b")])
    procs = [p for ps in supervisor.processes.values() for p in ps]
    supervisor.stop()
    assert all(_gone(p.pid) for p in procs)
    assert all(p.proc.returncode == 0 for p in procs)
    assert all("tiny_service: drained" in p.log_path.read_text() for p in procs)
    assert supervisor.processes == {}


def test_stop_kills_what_ignores_sigterm(
    tmp_path: Path, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """A process still running after the stop timeout is SIGKILLed."""
    sup = Supervisor(data_dir=tmp_path, base_env=BASE_ENV, launcher=TINY, stop_timeout_s=0.5)
    sup.start([ServiceSpec(manifest=tiny_manifest("stubborn"), env={**tiny_env, "TINY_IGNORE_SIGTERM": "1"})])
    (proc,) = sup.processes["stubborn"]
    started = time.monotonic()
    sup.stop()
    assert time.monotonic() - started < 3
    assert proc.proc.returncode == -9


def test_kill_then_restart_keeps_the_port(
    supervisor: Supervisor, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """kill() is a crash (SIGKILL); restart() brings the replica back on the same port."""
    supervisor.start([ServiceSpec(manifest=tiny_manifest("crashy"), env=tiny_env)])
    (proc,) = supervisor.processes["crashy"]
    old_pid, port = proc.pid, proc.port
    assert supervisor.kill("crashy") == [old_pid]
    assert not proc.alive
    assert proc.proc.returncode == -9
    supervisor.restart("crashy")
    (again,) = supervisor.processes["crashy"]
    assert again.pid != old_pid
    assert again.port == port
    assert _healthz(again.url) == 200


def test_replicas_get_their_own_port_and_log(
    supervisor: Supervisor,
    tmp_path: Path,
    tiny_manifest: Callable[..., ServiceManifest],
    tiny_env: dict[str, str],
) -> None:
    """Replicas share the service's data folder but not a port or a log file."""
    supervisor.start([ServiceSpec(manifest=tiny_manifest("many"), env=tiny_env)], replicas={"many": 2})
    supervisor.add_replica("many")
    procs = supervisor.processes["many"]
    assert [p.replica for p in procs] == [0, 1, 2]
    assert len({p.port for p in procs}) == 3
    assert [p.log_path.name for p in procs] == ["many.log", "many.1.log", "many.2.log"]
    assert all(_healthz(p.url) == 200 for p in procs)
    assert (tmp_path / "services" / "many" / "env.2.json").is_file()
    assert supervisor.kill("many", replica=1) == [procs[1].pid]
    assert [p.alive for p in procs] == [True, False, True]


def test_failed_start_stops_the_rest_and_shows_the_log(
    supervisor: Supervisor, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """A process that exits before it is healthy fails start() with its log; the others are stopped."""
    good = ServiceSpec(manifest=tiny_manifest("good"), env=tiny_env)
    bad = ServiceSpec(manifest=tiny_manifest("bad"), env={**tiny_env, "TINY_EXIT_CODE": "4"})
    with pytest.raises(ProcessStartError, match=r"(?s)bad\[0\] exited with 4.*exiting as asked"):
        supervisor.start([good, bad])
    assert supervisor.processes == {}


def _tend_until(supervisor: Supervisor, done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the supervisor did not restart the replica in time"
        supervisor.tend()
        time.sleep(0.1)


def test_a_replica_that_dies_on_its_own_is_restarted_with_backoff(
    supervisor: Supervisor, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """A crash the supervisor did not cause: noted with its reason, restarted on its port after the backoff,
    counted; a second crash soon after waits twice as long."""
    supervisor.start([ServiceSpec(manifest=tiny_manifest("mortal"), env=tiny_env)])
    (proc,) = supervisor.processes["mortal"]
    first_pid, port = proc.pid, proc.port
    os.kill(first_pid, signal.SIGKILL)
    _tend_until(supervisor, lambda: proc.restarts == 1 and proc.alive)
    assert proc.pid != first_pid and proc.port == port
    assert proc.last_exit == "killed by SIGKILL" and proc.backoff_s == 1.0
    _tend_until(supervisor, lambda: _responds(proc.url))
    os.kill(proc.pid, signal.SIGKILL)
    _tend_until(supervisor, lambda: proc.restarts == 2 and proc.alive)
    assert proc.backoff_s == 2.0


def test_a_replica_killed_on_purpose_stays_down_until_restarted(
    supervisor: Supervisor, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """kill() is a test's crash: tend() leaves it to the test's own restart()."""
    supervisor.start([ServiceSpec(manifest=tiny_manifest("held"), env=tiny_env)])
    (proc,) = supervisor.processes["held"]
    supervisor.kill("held")
    for _ in range(3):
        assert supervisor.tend() == []
    assert not proc.alive and proc.restarts == 0
    supervisor.restart("held")
    assert proc.alive and not proc.held_down


def test_exit_reasons_read_as_words() -> None:
    """Return codes become what an operator reads in ``tributary status``."""
    assert exit_reason(None) is None
    assert exit_reason(1) == "exited with code 1"
    assert exit_reason(-15) == "killed by SIGTERM"


def _responds(url: str) -> bool:
    try:
        return _healthz(url) == 200
    except httpx.HTTPError:
        return False


def test_replicas_get_data_folders_of_their_own_when_asked(
    tmp_path: Path, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """``own_data_dirs``: each replica of that service has a folder (as separate tasks); others share one."""
    sup = Supervisor(
        data_dir=tmp_path,
        base_env=BASE_ENV,
        launcher=TINY,
        health_timeout_s=10,
        stop_timeout_s=5,
        own_data_dirs={"alpha"},
    )
    try:
        sup.start(
            [ServiceSpec(manifest=tiny_manifest(n), env=tiny_env) for n in ("alpha", "beta")],
            replicas={"alpha": 3, "beta": 2},
        )
        services = tmp_path / "services"
        dirs = [
            json.loads(p.read_text())["TRIBUTARY_DATA_DIR"]
            for p in sorted(services.glob("alpha*/env.*.json"))
        ]
        assert dirs == [str(services / "alpha"), str(services / "alpha.1"), str(services / "alpha.2")]
        beta = {json.loads(p.read_text())["TRIBUTARY_DATA_DIR"] for p in services.glob("beta*/env.*.json")}
        assert beta == {str(services / "beta")}
        assert len(list((services / "beta").glob("env.*.json"))) == 2
    finally:
        sup.stop()
