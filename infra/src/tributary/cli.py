"""The ``tributary`` command: bring the local stack up, run the demo, and operate it (topology, status,
DLQs, replay, trace — see :mod:`tributary.operators.commands`, :mod:`tributary.operators.dlq_commands` and
:mod:`tributary.operators.trace`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tributary import deploy, deploy_local
from tributary.contracts_cli import contracts_app
from tributary.credentials_cli import producers_app
from tributary.emulator import EmulatorError
from tributary.emulators import default_emulator_name, make_emulator
from tributary.foreground import ignore_signals, run_until_stopped, stop_on_signals
from tributary.lake.cli import lake_app
from tributary.operators import commands as ops
from tributary.operators.dlq_commands import dlq_app
from tributary.operators.trace import trace_command
from tributary.options import DataDir
from tributary.paths import default_data_dir
from tributary.processes import ProcessStartError
from tributary.stack import Stack, StackError

app = typer.Typer(help="Tributary: an event platform on AWS, and its local stack.", no_args_is_help=True)
console = Console()


def _endpoints_table(stack: Stack) -> Table:
    info = stack.describe()
    table = Table(title="Tributary local stack")
    table.add_column("what", style="bold")
    table.add_column("where")
    table.add_column("details")
    table.add_row(info["emulator"], info["aws_endpoint"], f"pid {info['emulator_pid']}")
    table.add_row("bus", info["bus_name"], info["region"])
    table.add_row("bucket", info["bucket"], "")
    for name, svc in info["services"].items():
        table.add_row(name, svc["url"], "pid " + ", ".join(str(p) for p in svc["pids"]))
    for name, queue in info["queues"].items():
        table.add_row(
            f"queue {name}", queue["url"].rsplit("/", 1)[-1], "dlq " + queue["dlq_url"].rsplit("/", 1)[-1]
        )
    if info.get("console_url"):
        table.add_row("console", info["console_url"], "the live view: open it in a browser")
    table.add_row("logs", str(stack.data_dir / "logs"), "")
    table.add_row("stack.json", str(stack.stack_file), "all URLs")
    return table


@app.command()
def up(
    data_dir: DataDir = None,
    emulator: Annotated[
        str | None,
        typer.Option(
            help="The AWS emulator: localstack or ministack (started here), or endpoint (the one at"
            " LOCALSTACK_ENDPOINT, which is the default when that is set; localstack otherwise).",
            envvar="TRIBUTARY_EMULATOR",
        ),
    ] = None,
    bus_name: Annotated[
        str | None,
        typer.Option(
            help="EventBridge bus name (prefix of queues and rules); default tributary, or a unique"
            " tributary-<hex> on an endpoint."
        ),
    ] = None,
) -> None:
    """Start the emulator, provision from the manifests, run every service; Ctrl-C stops it all."""
    folder = (data_dir or default_data_dir()).resolve()
    chosen = make_emulator(emulator or default_emulator_name(), folder)
    stack = Stack(data_dir=folder, emulator=chosen, bus_name=bus_name)
    run_until_stopped(
        stack,
        console=console,
        starting="starting the local stack…",
        ready="[green]up[/] — Ctrl-C to stop",
        table=lambda: _endpoints_table(stack),
        errors=(StackError, EmulatorError, ProcessStartError),
    )


@app.command()
def demo(data_dir: DataDir = None) -> None:
    """Run the end-to-end demo on a fresh local stack."""
    from tributary.demo import run_demo  # the demo pulls in more than `up` needs

    stop_on_signals()
    try:
        run_demo(data_dir=data_dir)
    except KeyboardInterrupt:
        console.print("interrupted")
        raise typer.Exit(130) from None


@app.command("console")
def console_command(
    stack_file: Annotated[
        Path | None,
        typer.Option(
            "--stack-file",
            help="A stack's description (stack.json), local or deployed [default: the local stack's].",
            envvar="TRIBUTARY_STACK_FILE",
        ),
    ] = None,
    data_dir: DataDir = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).", min=0, max=65535)] = 0,
) -> None:
    """Serve the console for a running or deployed stack on 127.0.0.1 until Ctrl-C."""
    from tributary.console.server import ConsoleError, ConsoleServer
    from tributary.console.source import StackSource, stack_file_reader

    path = stack_file or (data_dir or default_data_dir()) / "stack.json"
    read = stack_file_reader(path)
    try:
        read()
        server = ConsoleServer(StackSource(read), port=port)
        url = server.start()
    except (StackError, ConsoleError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"console for {path.name}: [bold]{url}[/] — Ctrl-C to stop")
    stop_on_signals()
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        ignore_signals()
        server.stop()


app.command("topology")(ops.topology)
app.command("status")(ops.status)
app.add_typer(dlq_app, name="dlq")
app.add_typer(contracts_app, name="contracts")
app.add_typer(producers_app, name="producers")
app.add_typer(lake_app, name="lake")
app.command("replay")(ops.replay_command)
app.command("trace")(trace_command)

deploy.register(app)  # provision, deploy
deploy_local.register(app)  # deploy-local


if __name__ == "__main__":
    app()
