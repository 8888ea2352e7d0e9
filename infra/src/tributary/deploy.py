"""Per-service deploys against an emulator that is already running (docker compose, ``localstack start``).

- :func:`provision_only` (``tributary provision --endpoint URL``): the topology of the given services
  (default: all) and nothing else; what the one-shot container of ``docker-compose.yml`` runs.
- :func:`deploy` (``tributary deploy SERVICE --target localstack``): that one service's queue, DLQ, rule and
  topics, then one process of it, as ``tributary up`` would start it. It is a :class:`~tributary.stack.Stack`
  of one manifest on an :class:`~tributary.endpoint.EndpointEmulator`, so the environment the process gets
  is exactly the local stack's, and ``<data dir>/stack.json`` describes it while it runs.

The emulator is only used, never started or stopped, and nothing is removed from it afterwards: the point of
a per-service deploy is that the rest of the topology stays as it is.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated

import structlog
import typer
from rich.console import Console
from rich.table import Table

from shared.manifest import ServiceManifest, load_manifests
from tributary.aws import REGION, emulator_client
from tributary.emulator import EmulatorError
from tributary.endpoint import EndpointEmulator
from tributary.foreground import ignore_signals, stop_on_signals
from tributary.paths import default_data_dir
from tributary.processes import ProcessStartError
from tributary.provision import Topology, provision
from tributary.stack import Stack, StackError

log = structlog.get_logger(__name__)

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_BUCKET = "tributary-archive"


def _manifest(service: str, manifests: Sequence[ServiceManifest] | None) -> ServiceManifest:
    known = {m.name: m for m in (load_manifests() if manifests is None else manifests)}
    try:
        return known[service]
    except KeyError:
        raise ValueError(f"unknown service {service!r} (installed: {', '.join(sorted(known))})") from None


def provision_only(
    *,
    endpoint: str,
    target: str = "localstack",
    bus_name: str = "tributary",
    bucket: str = DEFAULT_BUCKET,
    services: Sequence[str] = (),
    manifests: Sequence[ServiceManifest] | None = None,
    region: str = REGION,
    timeout_s: float = 60.0,
) -> Topology:
    """Wait for the emulator, then provision the bus, the bucket and the given services (default: all).

    Raises:
        EmulatorError: the emulator did not answer in time.
        ValueError: an unknown service name.
        botocore.exceptions.ClientError: a provisioning call failed.
    """
    EndpointEmulator(endpoint, name=target, timeout_s=timeout_s).start()
    chosen = [_manifest(s, manifests) for s in services] if services else manifests
    clients = {
        name: emulator_client(name, endpoint, region=region) for name in ("sqs", "events", "s3", "sns")
    }
    return provision(**clients, bucket=bucket, bus_name=bus_name, manifests=chosen)


def deploy(
    service: str,
    *,
    endpoint: str,
    target: str = "localstack",
    bus_name: str = "tributary",
    bucket: str = DEFAULT_BUCKET,
    data_dir: Path | None = None,
    manifests: Sequence[ServiceManifest] | None = None,
    service_env: Mapping[str, str] | None = None,
    health_timeout_s: float = 30.0,
) -> Stack:
    """Provision one service on a running emulator and start one process of it; returns the started stack.

    Stop it with :meth:`Stack.stop` (the service drains; the emulator and the topology stay).

    Args:
        service: the manifest name (``archiver``).
        endpoint: the emulator's gateway.
        target: which emulator that is (``localstack``; ``ministack`` works the same way).
        bus_name, bucket: the topology it joins (the bucket is created if missing).
        data_dir: the service's folder (default ``.tributary/deploy/<service>``: one deploy per service at
            a time, beside a ``tributary up`` stack).
        service_env: extra environment for the process (tuning knobs).

    Raises:
        ValueError: an unknown service or target.
        EmulatorError, ProcessStartError, StackError, ClientError: as :meth:`Stack.start`; nothing is left
            running.
    """
    manifest = _manifest(service, manifests)
    stack = Stack(
        data_dir=data_dir or default_data_dir() / "deploy" / service,
        manifests=[manifest],
        emulator=EndpointEmulator(endpoint, name=target),
        bus_name=bus_name,
        bucket=bucket,
        service_env={service: dict(service_env or {})},
        health_timeout_s=health_timeout_s,
    )
    stack.start()
    log.info("deployed", service=service, endpoint=endpoint, bus=bus_name, data_dir=str(stack.data_dir))
    return stack


# -- commands (registered on the `tributary` app by :func:`register`) ------------------------------------

console = Console()

Endpoint = Annotated[str, typer.Option(help="The running emulator's gateway.", envvar="TRIBUTARY_ENDPOINT")]
Target = Annotated[str, typer.Option(help="The emulator at the endpoint: localstack (or ministack).")]
BusName = Annotated[str, typer.Option(help="EventBridge bus name (prefix of queues and rules).")]
Bucket = Annotated[str, typer.Option(help="The archive bucket (created if missing).")]


def _topology_table(topology: Topology, *, endpoint: str) -> Table:
    table = Table(title="Provisioned")
    table.add_column("what", style="bold")
    table.add_column("name")
    table.add_column("details")
    table.add_row("endpoint", endpoint, "")
    table.add_row("bus", topology.bus_name, topology.bus_arn)
    table.add_row("bucket", topology.bucket, "")
    for name, queue in topology.queues.items():
        table.add_row(f"{name} queue", queue.url.rsplit("/", 1)[-1], queue.url)
        table.add_row(f"{name} dlq", queue.dlq_url.rsplit("/", 1)[-1], queue.dlq_url)
        table.add_row(f"{name} rule", queue.rule_name, "target: queue, DLQ on delivery failure")
    for name, topics in topology.topics.items():
        for topic, arn in topics.items():
            table.add_row(f"{name} topic", topic, arn)
    return table


def provision_command(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    target: Target = "localstack",
    bus_name: BusName = "tributary",
    bucket: Bucket = DEFAULT_BUCKET,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only this service (repeatable) [default: all]")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the emulator to answer.")] = 60.0,
) -> None:
    """Provision the topology (bus, bucket, queues, DLQs, rules, topics) on a running emulator, then exit."""
    try:
        topology = provision_only(
            endpoint=endpoint,
            target=target,
            bus_name=bus_name,
            bucket=bucket,
            services=service or (),
            timeout_s=timeout,
        )
    except (EmulatorError, ValueError) as exc:
        console.print(f"[red]failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(_topology_table(topology, endpoint=endpoint))


def _wait_while_running(stack: Stack, service: str) -> int:
    """Block until interrupted (0) or until the service's process exits (1)."""
    (proc,) = stack.supervisor.processes[service]
    while proc.alive:
        time.sleep(1.0)
    console.print(f"[red]{service} exited with {proc.proc.returncode}[/] (log {proc.log_path})")
    return 1


def deploy_command(
    service: Annotated[str, typer.Argument(help="The service to deploy (its manifest name).")],
    target: Target = "localstack",
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    bus_name: BusName = "tributary",
    bucket: Bucket = DEFAULT_BUCKET,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="The service's folder [default: .tributary/deploy/<service>]"),
    ] = None,
) -> None:
    """Provision one service's queue, DLQ, rule and topics on a running emulator and run the service."""
    previous = stop_on_signals()
    stack: Stack | None = None
    code = 0
    try:
        with console.status(f"deploying {service} to {target} at {endpoint}…"):
            stack = deploy(
                service, endpoint=endpoint, target=target, bus_name=bus_name, bucket=bucket, data_dir=data_dir
            )
        console.print(_topology_table(stack.topology, endpoint=endpoint))
        (proc,) = stack.supervisor.processes[service]
        console.print(f"[green]{service} running[/]: pid {proc.pid}, {proc.url}, log {proc.log_path}")
        console.print("Ctrl-C to stop it (the emulator and the topology stay)")
        code = _wait_while_running(stack, service)
    except KeyboardInterrupt:
        console.print(f"stopping {service}…")
    except (EmulatorError, ProcessStartError, StackError, ValueError) as exc:
        console.print(f"[red]failed:[/] {exc}")
        code = 1
    finally:
        ignore_signals()  # a second Ctrl-C must not cut the drain short
        try:
            if stack is not None:
                stack.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``provision`` and ``deploy`` to the ``tributary`` command."""
    app.command("provision")(provision_command)
    app.command("deploy")(deploy_command)
