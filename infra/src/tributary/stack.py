"""The whole local stack as one context manager: emulator → provisioning → services → ``stack.json``.

``with Stack() as stack:`` starts LocalStack on the host, provisions the bus, queues, DLQs, rules and a
bucket unique to this stack from the service manifests, starts every service as its own process, and
writes ``<data_dir>/stack.json`` for tools and tests that run beside it. Leaving the block (normally or on
an exception) stops everything in reverse order, removes the emulator's leftovers and ``stack.json``.
Services send their X-Ray segments to the stack's collector, which writes ``<data_dir>/traces.jsonl``.

A data folder hosts one stack at a time (``stack.lock``).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import httpx
import structlog

from shared.credential_stores import CredentialStore, FileCredentialStore
from shared.manifest import ServiceManifest, load_manifests
from tributary.aws import EMULATOR_CREDENTIALS, REGION, ClientFactory, emulator_client
from tributary.awsproxy import AwsProxy
from tributary.credentials import LOCAL_PRODUCER, StackKeys, issue_stack_keys, local_store_path
from tributary.emulator import Emulator
from tributary.emulators import default_emulator_name, make_emulator
from tributary.paths import default_data_dir
from tributary.provision import Topology, provision, serves_dynamodb
from tributary.supervisor import LAUNCHER, ServiceSpec, Supervisor
from tributary.trace_collector import TraceCollector
from tributary.watcher import DlqWatcher

if TYPE_CHECKING:
    from tributary.console.server import ConsoleServer

log = structlog.get_logger(__name__)

STACK_FILE = "stack.json"
TRACES_FILE = "traces.jsonl"
LOCK_FILE = "stack.lock"


class StackError(RuntimeError):
    """The stack cannot start (its data folder is in use, or it is not running)."""


def unique_bucket_name() -> str:
    """``tributary-archive-<8 hex>``: LocalStack keeps every stack's objects in one host folder."""
    return f"tributary-archive-{secrets.token_hex(4)}"


class Stack:
    """The local stack. Every argument is keyword-only and optional.

    Args:
        data_dir: where everything lives (default ``.tributary/`` at the repository root).
        manifests: the services to provision and run (default: every installed one).
        emulator: an emulator; one that is not started yet is started and stopped by the stack, one that
            is already running is only used (tests share one per module). Default: ``$TRIBUTARY_EMULATOR``
            (``localstack`` unless set).
        bus_name: the EventBridge bus, also the prefix of queue and rule names (default ``tributary``; on an
            emulator the stack does not own, ``tributary-<6 hex>``, so stacks sharing it never meet).
        bucket: the archive bucket (default: a unique ``tributary-archive-<hex>``).
        service_env: extra environment per service name (tuning knobs); wins over the stack's.
        replicas: processes per service name (default 1).
        own_data_dirs: services whose replicas each get their own data folder, as separate tasks (hosts) have;
            by default a service's replicas share one (see :class:`~tributary.supervisor.Supervisor`).
        python: the interpreter that runs services (default: this one).
        launcher: what it runs, followed by the service name (default: ``-m shared.run``).
        health_timeout_s, stop_timeout_s: passed to the :class:`~tributary.supervisor.Supervisor`.
        watch_dlqs_s: how often the DLQ watcher polls (``None``: no watcher); see :mod:`tributary.watcher`.
        aws_proxy: route each service's AWS calls through its own listener of an
            :class:`~tributary.awsproxy.AwsProxy` (:attr:`proxy`: call counts per hop, injected throttling).
        restart_services: restart a service process that died on its own, with backoff, as ECS would
            (see :meth:`~tributary.supervisor.Supervisor.tend`); ``stack.json`` shows restarts and the
            last exit reason.
        console: serve the console (:mod:`tributary.console`) from a thread of this process, on a free
            port of 127.0.0.1 (``console_url`` in ``stack.json``).
    """

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        manifests: Sequence[ServiceManifest] | None = None,
        emulator: Emulator | None = None,
        bus_name: str | None = None,
        bucket: str | None = None,
        region: str = REGION,
        service_env: Mapping[str, Mapping[str, str]] | None = None,
        replicas: Mapping[str, int] | None = None,
        own_data_dirs: Collection[str] = (),
        python: Path | None = None,
        launcher: Sequence[str] = LAUNCHER,
        health_timeout_s: float = 30.0,
        stop_timeout_s: float = 20.0,
        watch_dlqs_s: float | None = 5.0,
        aws_proxy: bool = False,
        restart_services: bool = True,
        console: bool = True,
    ) -> None:
        self.data_dir = (data_dir or default_data_dir()).resolve()
        self.manifests = list(load_manifests() if manifests is None else manifests)
        self.emulator: Emulator = emulator or make_emulator(default_emulator_name(), self.data_dir)
        shared = not self.emulator.owned
        self.bus_name = bus_name or (f"tributary-{secrets.token_hex(3)}" if shared else "tributary")
        self.bucket = bucket or unique_bucket_name()
        self.region = region
        self._service_env = {k: dict(v) for k, v in (service_env or {}).items()}
        self._replicas = dict(replicas or {})
        self._own_data_dirs = tuple(own_data_dirs)
        self._python = python
        self._launcher = tuple(launcher)
        self._health_timeout_s = health_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._watch_dlqs_s = watch_dlqs_s
        self._aws_proxy = aws_proxy
        self._restart_services = restart_services
        self._proxy: AwsProxy | None = None
        self._console = console
        self._console_url: str | None = None
        self._topology: Topology | None = None
        self._dynamodb = False
        self._supervisor: Supervisor | None = None
        self._exit = ExitStack()
        self._keys: StackKeys | None = None
        self.traces = TraceCollector(self.data_dir / TRACES_FILE)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the emulator, provision, start the services, write ``stack.json``.

        Raises:
            StackError: another stack holds this data folder.
            tributary.emulator.EmulatorError, tributary.processes.ProcessStartError, ClientError: a step
                failed; whatever had started is stopped again before the error propagates.
        """
        started = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._exit.enter_context(self._lock())
            self.traces.start()  # the X-Ray daemon stand-in every service sends segments to
            self._exit.callback(self.traces.stop)
            if self.emulator.pid is None:
                self._exit.callback(self.emulator.stop)
                self.emulator.start()
            self.emulator.track_bucket(self.bucket)
            if self._aws_proxy:
                self._proxy = self._exit.enter_context(AwsProxy(self.emulator.endpoint))
            self._topology = self._provision()
            self._keys = issue_stack_keys(self._credential_store())
            supervisor = Supervisor(
                data_dir=self.data_dir,
                base_env=self._base_env(),
                python=self._python,
                launcher=self._launcher,
                health_timeout_s=self._health_timeout_s,
                stop_timeout_s=self._stop_timeout_s,
                inherit_tributary_env=self.inherit_tributary_env,
                own_data_dirs=self._own_data_dirs,
            )
            self._exit.callback(supervisor.stop)
            self._supervisor = supervisor
            supervisor.start([self._spec(m) for m in self.manifests], replicas=self._replicas)
            self._start_watcher()
            self._start_console()
            self._exit.callback(self.stack_file.unlink, missing_ok=True)
            self.write_stack_file()
            if self._restart_services:
                self._start_tending(supervisor)
        except BaseException:
            self.stop()
            raise
        ms = round((time.monotonic() - started) * 1000)
        log.info("stack_started", data_dir=str(self.data_dir), endpoint=self.emulator.endpoint, ms=ms)

    def _start_tending(self, supervisor: Supervisor) -> None:
        """Every second, restart dead services (after their backoff); rewrite ``stack.json`` on a change."""
        stopped = threading.Event()

        def tend() -> None:
            while not stopped.wait(1.0):
                try:
                    if supervisor.tend():
                        self.write_stack_file()
                except Exception:  # the tending thread must outlive one failed restart
                    log.exception("tend_failed")

        thread = threading.Thread(target=tend, name="supervise", daemon=True)
        thread.start()
        self._exit.callback(thread.join, 5)
        self._exit.callback(stopped.set)

    def stop(self) -> None:
        """Stop services, then the emulator; remove ``stack.json``; idempotent."""
        started = time.monotonic()
        try:
            self._exit.close()
        finally:
            self._exit = ExitStack()
            self._supervisor = None
            self._proxy = None
        log.info("stack_stopped", ms=round((time.monotonic() - started) * 1000))

    def _lock(self) -> IO[str]:
        handle = (self.data_dir / LOCK_FILE).open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise StackError(f"another stack is running on {self.data_dir}") from exc
        return handle  # closing the handle releases the lock

    # -- wiring ------------------------------------------------------------------------------------------

    inherit_tributary_env = True
    """Whether services see the host's ``TRIBUTARY_*`` variables (a deployed stack's see only their own)."""

    def _credential_store(self) -> CredentialStore:
        """Where ingest reads producer credentials (here: the stack's file, ``TRIBUTARY_AUTH_STORE``)."""
        return FileCredentialStore(self.credential_path)

    def _provision(self) -> Topology:
        """Build the topology on the emulator (here: from the manifests, through the APIs)."""
        topology = provision(
            sqs=self.client("sqs"),
            events=self.client("events"),
            s3=self.client("s3"),
            sns=self.client("sns"),
            bucket=self.bucket,
            bus_name=self.bus_name,
            manifests=self.manifests,
        )
        wants_tables = any(m.state_table for m in self.manifests)
        self._dynamodb = wants_tables and serves_dynamodb(self.client("dynamodb"))
        return topology

    @property
    def client(self) -> ClientFactory:
        """``client(service)``: a boto3 client for ``service`` on the stack's emulator, typed per service."""
        return self._client

    def _client(self, service: str) -> Any:
        return emulator_client(service, self.emulator.endpoint, region=self.region)

    def _base_env(self) -> dict[str, str]:
        return self.aws_env() | {
            "AWS_XRAY_DAEMON_ADDRESS": self.traces.address,
            "TRIBUTARY_TRACE_SAMPLE_RATE": "1.0",  # locally, every trace: there is no bill
        }

    def aws_env(self) -> dict[str, str]:
        """What every service gets to reach the stack's AWS: endpoint, region, credentials, bus, bucket."""
        return {
            "AWS_ENDPOINT_URL": self.emulator.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["aws_secret_access_key"],
            "TRIBUTARY_BUS_NAME": self.bus_name,
            "TRIBUTARY_BUCKET": self.bucket,
        }

    def _start_watcher(self) -> None:
        """Report DLQ growth as ``ops.dlq_depth`` events through ingest (the local CloudWatch alarm)."""
        ingest_url = self.ingest_url
        if not self._watch_dlqs_s or not ingest_url or not self.topology.queues:
            return

        headers = {"authorization": f"Bearer {self.keys.platform}"}

        def publish(events: list[dict[str, Any]]) -> None:
            response = httpx.post(
                f"{ingest_url}/v1/events", json={"events": events}, headers=headers, timeout=10
            )
            response.raise_for_status()

        watcher = DlqWatcher(
            sqs=self.client("sqs"),
            dlqs={name: q.dlq_url for name, q in self.topology.queues.items()},
            publish=publish,
            interval_s=self._watch_dlqs_s,
        )
        watcher.start()
        self._exit.callback(watcher.stop)

    def _start_console(self) -> None:
        """The console, reading this stack's description in process (what ``stack.json`` holds)."""
        if not self._console:
            return
        from tributary.console.server import ConsoleServer  # FastAPI and uvicorn only when serving it
        from tributary.console.source import StackSource

        server = ConsoleServer(StackSource(self.describe, manifests=self.manifests))
        self._console_url = server.start()
        self._exit.callback(self._stop_console, server)

    def _stop_console(self, server: ConsoleServer) -> None:
        self._console_url = None
        server.stop()

    def _spec(self, manifest: ServiceManifest) -> ServiceSpec:
        env: dict[str, str] = {}
        if manifest.is_worker:
            queue = self.topology.queues[manifest.name]
            env.update(
                TRIBUTARY_QUEUE_URL=queue.url,
                TRIBUTARY_DLQ_URL=queue.dlq_url,
                TRIBUTARY_VISIBILITY_TIMEOUT_S=str(manifest.queue.visibility_timeout_s),
            )
        if manifest.state_table:
            env["TRIBUTARY_STATE_BACKEND"] = "dynamodb" if self._dynamodb else "sqlite"
            if self._dynamodb:
                env["TRIBUTARY_STATE_TABLE"] = f"{self.bus_name}-{manifest.name}-state"
                env["TRIBUTARY_STATE_TABLE_CREATE"] = "true"
        for topic, arn in self.topology.topics.get(manifest.name, {}).items():
            env[f"TRIBUTARY_TOPIC_{topic.upper()}_ARN"] = arn
        if manifest.name == "ingest":
            env["TRIBUTARY_AUTH_STORE"] = str(self.credential_path)
        if self._proxy is not None:
            env["AWS_ENDPOINT_URL"] = self._proxy.listen(manifest.name)
        env.update(self._service_env.get(manifest.name, {}))
        return ServiceSpec(manifest=manifest, env=env)

    # -- state -------------------------------------------------------------------------------------------

    @property
    def topology(self) -> Topology:
        if self._topology is None:
            raise StackError("stack not provisioned")
        return self._topology

    @property
    def supervisor(self) -> Supervisor:
        if self._supervisor is None:
            raise StackError("stack not running")
        return self._supervisor

    @property
    def proxied(self) -> bool:
        """Whether the services call AWS through :attr:`proxy`."""
        return self._proxy is not None

    @property
    def proxy(self) -> AwsProxy:
        """The AWS proxy the services call through (``aws_proxy=True`` only)."""
        if self._proxy is None:
            raise StackError("stack runs without an AWS proxy (aws_proxy=False) or is not running")
        return self._proxy

    @property
    def stack_file(self) -> Path:
        return self.data_dir / STACK_FILE

    @property
    def credential_path(self) -> Path:
        """The stack's producer credential store (``tributary producers`` manages it)."""
        return local_store_path(self.data_dir)

    @property
    def keys(self) -> StackKeys:
        """The keys of the stack's own principals, issued at start."""
        if self._keys is None:
            raise StackError("stack not started")
        return self._keys

    @property
    def ingest_url(self) -> str | None:
        procs = self.supervisor.processes.get("ingest")
        return procs[0].url if procs else None

    def describe(self) -> dict[str, Any]:
        """What ``stack.json`` holds."""
        services = {
            name: {
                "url": procs[0].url,
                "urls": [p.url for p in procs],
                "pids": [p.pid for p in procs if p.alive],
                "restarts": [p.restarts for p in procs],
                "last_exit": [p.last_exit for p in procs],
                "log": str(procs[0].log_path),
                "logs": [str(p.log_path) for p in procs],
            }
            for name, procs in self.supervisor.processes.items()
        }
        queues = {
            name: {"url": q.url, "dlq_url": q.dlq_url, "arn": q.arn, "dlq_arn": q.dlq_arn}
            for name, q in self.topology.queues.items()
        }
        topics = self.topology.topics
        # Services whose HTTP API users call get a top-level key too (manifest.url_key: ingest_url, ...).
        urls = {
            m.url_key: services[m.name]["url"] for m in self.manifests if m.url_key and m.name in services
        }
        return {
            "emulator": self.emulator.name,
            "state_backend": "dynamodb" if self._dynamodb else "sqlite",
            "emulator_pid": self.emulator.pid,
            "aws_endpoint": self.emulator.endpoint,
            "aws_proxy": self._proxy.endpoints if self._proxy else None,
            "region": self.region,
            "ingest_url": self.ingest_url,
            "producer": {"id": LOCAL_PRODUCER, "key": self.keys.local},
            **urls,
            "bus_name": self.topology.bus_name,
            "bus_arn": self.topology.bus_arn,
            "bucket": self.topology.bucket,
            "queues": queues,
            "topics": topics,
            "services": services,
            "data_dir": str(self.data_dir),
            "traces": str(self.traces.path),
            "console_url": self._console_url,
            "pid": os.getpid(),
        }

    def write_stack_file(self) -> Path:
        """(Re)write ``stack.json`` atomically; call after changing processes."""
        tmp = self.stack_file.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the local producer's key
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.describe(), indent=2) + "\n")
        tmp.replace(self.stack_file)
        return self.stack_file

    # -- operations (tests and the CLI) ------------------------------------------------------------------

    def kill(self, service: str, replica: int | None = None) -> list[int]:
        """SIGKILL a service's processes (a crash); see :meth:`Supervisor.kill`."""
        pids = self.supervisor.kill(service, replica)
        self.write_stack_file()
        return pids

    def restart(self, service: str) -> None:
        """Restart a service's replicas on their ports and wait until healthy."""
        self.supervisor.restart(service)
        self.write_stack_file()

    def add_replica(self, service: str) -> str:
        """Start one more process of ``service``; returns its URL."""
        proc = self.supervisor.add_replica(service)
        self.write_stack_file()
        return proc.url


def read_stack_file(data_dir: Path | None = None) -> dict[str, Any]:
    """The ``stack.json`` of the stack running on ``data_dir`` (default ``.tributary/``).

    Raises:
        StackError: no stack is running there.
    """
    path = (data_dir or default_data_dir()) / STACK_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StackError(f"no stack running on {path.parent} (no {STACK_FILE})") from exc
    return data
