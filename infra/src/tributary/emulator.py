"""Local AWS emulators run as host processes (no Docker): the interface a stack needs, and the shared base.

:class:`HostEmulator` starts an emulator from its own virtualenv, bound to 127.0.0.1 on a free port, waits
for its health URL, and stops it with SIGTERM then SIGKILL after a timeout. The concrete emulators
(:mod:`tributary.localstack`, :mod:`tributary.ministack`) say how to start theirs and what to clean up.
Services and provisioning never ask which emulator runs: where one lacks an API, the caller detects it from
the endpoint's error and takes the portable path.
"""

from __future__ import annotations

import os
import subprocess
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol, Self

import structlog

from tributary.processes import (
    LOOPBACK,
    ProcessStartError,
    free_port,
    log_tail,
    spawn,
    stop_processes,
    wait_healthy,
)

log = structlog.get_logger(__name__)


class EmulatorError(RuntimeError):
    """The emulator could not be started."""


class Emulator(Protocol):
    """A local AWS endpoint that a stack provisions into and points its services at.

    ``start()`` returns once the endpoint answers; ``stop()`` is idempotent, never hangs for longer than
    its timeout, and removes whatever the emulator left outside its data folder. ``owned`` is false for an
    endpoint something else runs (:mod:`tributary.endpoint`), which other stacks may share.
    """

    name: str
    owned: bool

    @property
    def endpoint(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def track_bucket(self, bucket: str) -> None: ...


def host_environment() -> dict[str, str]:
    """The host's environment minus AWS and Python settings meant for other programs."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }


class HostEmulator(ABC):
    """An emulator process started from its own virtualenv.

    Args:
        data_dir: the stack's data folder; the emulator's files go under it, its log to
            ``<data_dir>/logs/<name>.log``.
        port: the gateway port (default: a free one).
        start_timeout_s: how long to wait for the health URL.
        stop_timeout_s: how long SIGTERM may take before SIGKILL.
    """

    name: str
    health_path: str
    owned = True

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir / "logs" / f"{self.name}.log"
        self._port = port
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._buckets: set[str] = set()

    @abstractmethod
    def command(self) -> list[str]:
        """The argv that starts the emulator."""

    @abstractmethod
    def environment(self, port: int) -> dict[str, str]:
        """The process environment for a gateway on ``port``."""

    def cleanup(self, buckets: set[str]) -> None:  # noqa: B027 - optional hook: most emulators leave nothing
        """Remove what the stopped emulator left outside the data folder (nothing, by default)."""

    @property
    def endpoint(self) -> str:
        if self._port is None:
            raise EmulatorError("emulator not started")
        return f"http://{LOOPBACK}:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def __enter__(self) -> Self:
        """Started (as :meth:`start`); stopped when the block ends."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def track_bucket(self, bucket: str) -> None:
        """Remember a bucket the emulator served (for :meth:`cleanup`)."""
        self._buckets.add(bucket)

    def start(self) -> None:
        """Start the emulator and wait until its health URL answers 200.

        Raises:
            EmulatorError: no virtualenv, or it exited or stayed unhealthy (the message has the log tail).
        """
        if self._proc is not None:
            return
        argv = self.command()
        if not Path(argv[0]).exists():
            raise EmulatorError(f"no {self.name} at {argv[0]}: run `make install`")
        fixed_port = self._port is not None
        for attempt in range(3):
            port = self._port if fixed_port and self._port is not None else free_port()
            started = time.monotonic()
            proc = spawn(argv, env=self.environment(port), log_path=self.log_path, cwd=self.data_dir)
            url = f"http://{LOOPBACK}:{port}{self.health_path}"
            try:
                wait_healthy({self.name: (proc, url, self.log_path)}, timeout_s=self._start_timeout_s)
            except ProcessStartError as exc:
                stop_processes([proc], timeout_s=2.0)
                port_taken = "address already in use" in log_tail(self.log_path, 10).lower()
                if port_taken and not fixed_port and attempt < 2:
                    log.warning("emulator_port_taken", emulator=self.name, port=port)
                    continue
                raise EmulatorError(f"{self.name} did not start (log: {self.log_path})\n{exc}") from exc
            except BaseException:  # interrupted while waiting: leave nothing running
                stop_processes([proc], timeout_s=2.0)
                raise
            self._proc, self._port = proc, port
            ms = round((time.monotonic() - started) * 1000)
            log.info("emulator_started", emulator=self.name, endpoint=self.endpoint, pid=proc.pid, ms=ms)
            return

    def served_buckets(self) -> set[str]:
        """Buckets to clean up: the tracked ones (subclasses may ask the emulator for more)."""
        return set(self._buckets)

    def stop(self) -> None:
        """SIGTERM, SIGKILL after the stop timeout, then :meth:`cleanup`."""
        proc = self._proc
        if proc is None:
            return
        started = time.monotonic()
        buckets = self.served_buckets() if proc.poll() is None else set(self._buckets)
        killed = stop_processes([proc], timeout_s=self._stop_timeout_s)
        self._proc = None
        self.cleanup(buckets)
        ms = round((time.monotonic() - started) * 1000)
        log.info("emulator_stopped", emulator=self.name, killed=bool(killed), buckets=len(buckets), ms=ms)
