"""The local AWS emulator: LocalStack 4.14.0 on the host, no Docker.

LocalStack runs from its own virtualenv (``make install`` builds ``.localstack-venv`` on Python 3.13) as
``python -m localstack.runtime.main``, bound to 127.0.0.1 on a free port, with its files under the stack's
data folder. :class:`Emulator` is the interface a stack needs, so a second emulator (MiniStack) can stand
beside this one.

LocalStack's traps handled here: SIGTERM can hang for over 30 s after load (so stop escalates to SIGKILL),
and S3 objects go to a hard-coded ``/tmp/localstack-s3-storage/<bucket>`` whatever ``FILESYSTEM_ROOT`` says
(so :meth:`LocalStackEmulator.stop` removes the folder of every bucket it served).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from tributary.aws import emulator_client
from tributary.paths import localstack_python
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

LOCALSTACK_SERVICES = "sqs,events,s3,sns,sts,iam,cloudwatch,logs,cloudformation"
# LocalStack's S3 provider hard-codes this folder (DEFAULT_S3_TMP_DIR); it ignores TMPDIR.
LOCALSTACK_S3_STORAGE = Path("/tmp/localstack-s3-storage")  # noqa: S108 - LocalStack's path, not ours


class EmulatorError(RuntimeError):
    """The emulator could not be started."""


class Emulator(Protocol):
    """A local AWS endpoint that a stack provisions into and points its services at.

    ``start()`` returns once the endpoint answers; ``stop()`` is idempotent, never hangs for longer than
    its timeout, and removes whatever the emulator left outside its data folder.
    """

    name: str

    @property
    def endpoint(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def track_bucket(self, bucket: str) -> None: ...


class LocalStackEmulator:
    """LocalStack community 4.14.0 as a host process.

    Args:
        data_dir: the stack's data folder; LocalStack's files go to ``<data_dir>/localstack``, its log to
            ``<data_dir>/logs/localstack.log``.
        python: LocalStack's interpreter (default: :func:`tributary.paths.localstack_python`).
        port: the gateway port (default: a free one).
        start_timeout_s: how long to wait for ``/_localstack/health``.
        stop_timeout_s: how long SIGTERM may take before SIGKILL.
    """

    name = "localstack"

    def __init__(
        self,
        data_dir: Path,
        *,
        python: Path | None = None,
        port: int | None = None,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self.data_dir = data_dir
        self.python = python or localstack_python()
        self.log_path = data_dir / "logs" / "localstack.log"
        self._port = port
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._buckets: set[str] = set()

    @property
    def endpoint(self) -> str:
        if self._port is None:
            raise EmulatorError("emulator not started")
        return f"http://{LOOPBACK}:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def environment(self, port: int) -> dict[str, str]:
        """The process environment: the host's, minus AWS and Python settings meant for other programs."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("AWS_") and k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
        }
        tmp = self.data_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env.update(
            GATEWAY_SERVER="hypercorn",  # binds only the address given (twisted binds 0.0.0.0)
            GATEWAY_LISTEN=f"{LOOPBACK}:{port}",
            LOCALSTACK_HOST=f"{LOOPBACK}:{port}",
            OVERRIDE_IN_DOCKER="0",
            FILESYSTEM_ROOT=str(self.data_dir / "localstack"),
            SQS_ENDPOINT_STRATEGY="path",
            DNS_ADDRESS="0",
            SERVICES=LOCALSTACK_SERVICES,
            # Without these two it calls api.localstack.cloud; all our traffic stays on loopback.
            SKIP_SSL_CERT_DOWNLOAD="1",
            DISABLE_EVENTS="1",
            TMPDIR=str(tmp),  # Python's own temp files (LocalStack logs a harmless deprecation notice)
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> None:
        """Start LocalStack and wait until ``/_localstack/health`` answers 200.

        Raises:
            EmulatorError: no LocalStack venv, or it exited or stayed unhealthy (message has the log tail).
        """
        if self._proc is not None:
            return
        if not self.python.exists():
            raise EmulatorError(f"no LocalStack interpreter at {self.python}: run `make install`")
        fixed_port = self._port is not None
        for attempt in range(3):
            port = self._port if fixed_port and self._port is not None else free_port()
            started = time.monotonic()
            proc = spawn(
                [str(self.python), "-m", "localstack.runtime.main"],
                env=self.environment(port),
                log_path=self.log_path,
                cwd=self.data_dir,
            )
            url = f"http://{LOOPBACK}:{port}/_localstack/health"
            try:
                wait_healthy({"localstack": (proc, url, self.log_path)}, timeout_s=self._start_timeout_s)
            except ProcessStartError as exc:
                stop_processes([proc], timeout_s=2.0)
                port_taken = "address already in use" in log_tail(self.log_path, 10).lower()
                if port_taken and not fixed_port and attempt < 2:
                    log.warning("emulator_port_taken", emulator=self.name, port=port)
                    continue
                raise EmulatorError(f"LocalStack did not start (log: {self.log_path})\n{exc}") from exc
            except BaseException:  # interrupted while waiting: leave nothing running
                stop_processes([proc], timeout_s=2.0)
                raise
            self._proc, self._port = proc, port
            ms = round((time.monotonic() - started) * 1000)
            log.info("emulator_started", emulator=self.name, endpoint=self.endpoint, pid=proc.pid, ms=ms)
            return

    def track_bucket(self, bucket: str) -> None:
        """Remember a bucket whose storage folder :meth:`stop` must remove."""
        self._buckets.add(bucket)

    def _served_buckets(self) -> set[str]:
        s3 = emulator_client("s3", self.endpoint, timeout_s=5.0, max_attempts=1)
        try:
            return {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        except (BotoCoreError, ClientError) as exc:
            log.warning("emulator_list_buckets_failed", emulator=self.name, error=str(exc))
            return set()

    def stop(self) -> None:
        """SIGTERM, SIGKILL after the stop timeout, then remove the S3 folders of its buckets."""
        proc = self._proc
        if proc is None:
            return
        started = time.monotonic()
        buckets = self._buckets | (self._served_buckets() if proc.poll() is None else set())
        killed = stop_processes([proc], timeout_s=self._stop_timeout_s)
        self._proc = None
        for bucket in sorted(buckets):
            shutil.rmtree(LOCALSTACK_S3_STORAGE / bucket, ignore_errors=True)
        ms = round((time.monotonic() - started) * 1000)
        log.info("emulator_stopped", emulator=self.name, killed=bool(killed), buckets=len(buckets), ms=ms)


def make_emulator(name: str, data_dir: Path) -> Emulator:
    """The emulator called ``name`` (only ``localstack`` for now)."""
    if name == "localstack":
        return LocalStackEmulator(data_dir)
    raise ValueError(f"unknown emulator {name!r} (known: localstack)")
