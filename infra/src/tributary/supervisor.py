"""One process per service replica: started with its environment, health-checked, drained on stop.

Each replica runs ``<python> -m shared.run <service>`` (the one entry point of every service) in its own
process group, with stdout and stderr
appended to ``<data_dir>/logs/<service>.log`` (replica ``n > 0``: ``<service>.<n>.log``). Every process
serves ``GET /healthz`` on ``TRIBUTARY_HTTP_HOST:TRIBUTARY_HTTP_PORT`` (ingest on its API port, workers on a
small health server) and counts as started once that answers 200.

The environment of a replica, later entries winning: the host's (minus ``AWS_*``; ``MALLOC_ARENA_MAX`` 2
unless the host sets it), the stack's
(``base_env``: endpoint, region, credentials, bus, bucket), the per-process variables
(``TRIBUTARY_SERVICE``, ``TRIBUTARY_HTTP_HOST``, ``TRIBUTARY_HTTP_PORT``, ``TRIBUTARY_DATA_DIR``,
``TRIBUTARY_REPLICA``), then the service's own ``env`` (queue URLs, tuning knobs from tests).

A replica that dies on its own is started again on its port, as ECS replaces a stopped task:
:meth:`Supervisor.tend` (the stack calls it every second) notes the exit (code or signal), waits a backoff
(1 s, doubling per crash up to 60 s; back to 1 s once a replica has run for a minute) and respawns it,
counting restarts. A replica stopped on purpose (:meth:`Supervisor.kill`, a failed
:meth:`Supervisor.restart`) is left down until :meth:`Supervisor.restart`: tests that crash a service and
restart it themselves stay in control.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from shared.manifest import ServiceManifest
from tributary.processes import LOOPBACK, free_port, kill_process, spawn, stop_processes, wait_healthy

log = structlog.get_logger(__name__)

LAUNCHER = ("-m", "shared.run")  # tributary-service's module: it serves every service by name
# glibc's malloc gives each thread that allocates an arena of its own (up to 8 per core), each keeping freed
# memory; two bound that at no measurable cost under the GIL (~3 MB less peak RSS for timeseries_writer,
# docs/bench.md). The service image sets the same; a host's own value wins.
MALLOC_ARENA_MAX = "2"


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """A service to run: its manifest and the environment only it gets."""

    manifest: ServiceManifest
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.manifest.name


@dataclass(kw_only=True)
class ServiceProcess:
    """One replica: its port and log stay the same across restarts; ``proc`` is the current process."""

    service: str
    replica: int
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes]
    restarts: int = 0
    last_exit: str | None = None
    """Why the previous process ended (``exited with code 1``, ``killed by SIGKILL``), if one did."""
    held_down: bool = False
    """Stopped on purpose: not restarted automatically."""
    started_at: float = field(default_factory=time.monotonic)
    backoff_s: float = 0.0
    restart_at: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


class Supervisor:
    """Starts, watches and stops the service processes of one stack.

    Args:
        data_dir: the stack's data folder (logs under ``logs/``, service files under ``services/<name>``).
        base_env: variables every service gets (AWS endpoint, region, credentials, bus, bucket).
        python: the interpreter that runs services (default: this one, i.e. the workspace ``.venv``).
        launcher: what ``python`` runs, followed by the service name (default: the services' entry point).
        health_timeout_s: how long a process may take to answer ``/healthz``.
        stop_timeout_s: how long processes may drain after SIGTERM before SIGKILL.
        inherit_tributary_env: pass the host's ``TRIBUTARY_*`` variables on; without, a service gets only
            what the stack and its spec give it (a deployed task definition's environment must be complete).
        own_data_dirs: services whose replicas each get a data folder of their own, as separate tasks have
            (replica 0 ``services/<name>``, replica ``n`` ``services/<name>.<n>``); the others' replicas
            share ``services/<name>``, as processes on one host do.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        base_env: Mapping[str, str],
        python: Path | None = None,
        launcher: Sequence[str] = LAUNCHER,
        health_timeout_s: float = 30.0,
        stop_timeout_s: float = 20.0,
        inherit_tributary_env: bool = True,
        own_data_dirs: Collection[str] = (),
    ) -> None:
        self.data_dir = data_dir
        self._inherit_tributary_env = inherit_tributary_env
        self._own_data_dirs = frozenset(own_data_dirs)
        self.python = python or Path(sys.executable)
        self._launcher = tuple(launcher)
        self._base_env = dict(base_env)
        self._health_timeout_s = health_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._specs: dict[str, ServiceSpec] = {}
        self._procs: dict[str, list[ServiceProcess]] = {}
        self._lock = threading.RLock()  # tend() runs on the stack's thread, operations on the caller's

    @property
    def processes(self) -> dict[str, list[ServiceProcess]]:
        """Every service's replicas, in replica order (dead ones included until restarted)."""
        return {name: list(procs) for name, procs in self._procs.items()}

    def _environment(self, spec: ServiceSpec, replica: int, port: int) -> dict[str, str]:
        suffix = f".{replica}" if replica and spec.name in self._own_data_dirs else ""
        service_dir = self.data_dir / "services" / f"{spec.name}{suffix}"
        service_dir.mkdir(parents=True, exist_ok=True)
        dropped = ("AWS_",) if self._inherit_tributary_env else ("AWS_", "TRIBUTARY_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped) and k != "VIRTUAL_ENV"}
        env.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENA_MAX)
        env.update(self._base_env)
        env.update(
            PYTHONUNBUFFERED="1",
            TRIBUTARY_SERVICE=spec.name,
            TRIBUTARY_HTTP_HOST=LOOPBACK,
            TRIBUTARY_HTTP_PORT=str(port),
            TRIBUTARY_DATA_DIR=str(service_dir),
            TRIBUTARY_REPLICA=str(replica),
        )
        env.update(spec.env)
        return env

    def _spawn(self, spec: ServiceSpec, replica: int, port: int | None = None) -> ServiceProcess:
        env = self._environment(spec, replica, port or free_port())
        suffix = "" if replica == 0 else f".{replica}"
        log_path = self.data_dir / "logs" / f"{spec.name}{suffix}.log"
        proc = spawn(
            [str(self.python), *self._launcher, spec.name],
            env=env,
            log_path=log_path,
            cwd=Path(env["TRIBUTARY_DATA_DIR"]),
        )
        port = int(env["TRIBUTARY_HTTP_PORT"])
        log.info("service_spawned", service=spec.name, replica=replica, pid=proc.pid, port=port)
        return ServiceProcess(service=spec.name, replica=replica, port=port, log_path=log_path, proc=proc)

    def _wait(self, procs: Sequence[ServiceProcess]) -> None:
        checks = {f"{p.service}[{p.replica}]": (p.proc, f"{p.url}/healthz", p.log_path) for p in procs}
        wait_healthy(checks, timeout_s=self._health_timeout_s)

    def start(self, specs: Sequence[ServiceSpec], *, replicas: Mapping[str, int] | None = None) -> None:
        """Start every service (``replicas[name]`` processes each, default 1) and wait until all are healthy.

        Raises:
            tributary.processes.ProcessStartError: a process exited or stayed unhealthy; everything this
                call started has been stopped again.
        """
        started = time.monotonic()
        new: list[ServiceProcess] = []
        try:
            for spec in specs:
                if spec.name in self._specs:
                    raise ValueError(f"service {spec.name!r} already started")
                self._specs[spec.name] = spec
                self._procs[spec.name] = []
                for replica in range((replicas or {}).get(spec.name, 1)):
                    proc = self._spawn(spec, replica)
                    self._procs[spec.name].append(proc)
                    new.append(proc)
            self._wait(new)
        except BaseException:
            stop_processes([p.proc for p in new], timeout_s=self._stop_timeout_s)
            for spec in specs:
                self._specs.pop(spec.name, None)
                self._procs.pop(spec.name, None)
            raise
        ms = round((time.monotonic() - started) * 1000)
        log.info("services_healthy", services=[s.name for s in specs], processes=len(new), ms=ms)

    def add_replica(self, service: str) -> ServiceProcess:
        """Start one more process of a running service and wait until it is healthy."""
        replica = len(self._procs[service])
        proc = self._spawn(self._specs[service], replica)
        self._procs[service].append(proc)
        self._wait([proc])
        return proc

    def kill(self, service: str, replica: int | None = None) -> list[int]:
        """SIGKILL a service's live processes (or one replica), as a crash would; returns their pids.

        The killed replicas stay down (no automatic restart) until :meth:`restart`.
        """
        killed = []
        with self._lock:
            for proc in self._procs[service]:
                if (replica is None or proc.replica == replica) and proc.alive:
                    proc.held_down = True
                    kill_process(proc.proc)
                    killed.append(proc.pid)
        log.info("service_killed", service=service, pids=killed)
        return killed

    def restart(self, service: str, spec: ServiceSpec | None = None) -> None:
        """Stop a service's live processes gracefully, start each replica again on its port, wait healthy;
        with ``spec``, in that spec's environment from now on (a new task definition revision).

        Raises:
            tributary.processes.ProcessStartError: a replica did not become healthy; it stays down (no
                automatic restart) until the next call.
        """
        if spec is not None and spec.name != service:
            raise ValueError(f"spec of {spec.name!r} given to restart {service!r}")
        with self._lock:
            if spec is not None:
                self._specs[service] = spec
            procs = self._procs[service]
            for proc in procs:
                proc.held_down = True
            stop_processes([p.proc for p in procs if p.alive], timeout_s=self._stop_timeout_s)
            for proc in procs:
                proc.proc = self._spawn(self._specs[service], proc.replica, proc.port).proc
                proc.started_at, proc.restart_at = time.monotonic(), None
        self._wait(procs)
        with self._lock:
            for proc in procs:
                proc.held_down = False

    def tend(self) -> list[ServiceProcess]:
        """Restart replicas that died on their own, each after its backoff; returns those restarted now."""
        restarted = []
        now = time.monotonic()
        with self._lock:
            for service, procs in self._procs.items():
                for proc in procs:
                    if proc.alive or proc.held_down:
                        continue
                    if proc.restart_at is None:
                        proc.last_exit = exit_reason(proc.proc.returncode)
                        ran_s = now - proc.started_at
                        proc.backoff_s = 1.0 if ran_s >= 60 else min(max(proc.backoff_s * 2, 1.0), 60.0)
                        proc.restart_at = now + proc.backoff_s
                        log.warning(
                            "service_died",
                            service=service,
                            replica=proc.replica,
                            pid=proc.pid,
                            reason=proc.last_exit,
                            restart_in_s=proc.backoff_s,
                        )
                    elif now >= proc.restart_at:
                        proc.proc = self._spawn(self._specs[service], proc.replica, proc.port).proc
                        proc.restarts += 1
                        proc.started_at, proc.restart_at = now, None
                        restarted.append(proc)
        return restarted

    def stop(self) -> None:
        """SIGTERM every process, let them drain up to the stop timeout, SIGKILL the rest."""
        with self._lock:
            procs = [p for replicas in self._procs.values() for p in replicas]
            for proc in procs:
                proc.held_down = True
        started = time.monotonic()
        killed = stop_processes([p.proc for p in procs], timeout_s=self._stop_timeout_s)
        ms = round((time.monotonic() - started) * 1000)
        log.info("services_stopped", processes=len(procs), killed=killed, ms=ms)
        self._specs.clear()
        self._procs.clear()


def exit_reason(returncode: int | None) -> str | None:
    """A process's end in words: ``exited with code 1``, ``killed by SIGKILL``."""
    if returncode is None:
        return None
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"
