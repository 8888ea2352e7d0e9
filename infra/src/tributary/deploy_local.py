"""``tributary deploy-local``: the CDK app's stacks deployed into an emulator's CloudFormation, every service
run as a host process in its deployed task definition's environment (``make deploy-local``).

See :mod:`tributary.cloudformation.deployed`; the stack runs in the foreground until Ctrl-C, and
``<data dir>/stack.json`` (``"deployed_by": "cloudformation"``) describes it meanwhile.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tributary.cloudformation.assembly import SynthError
from tributary.cloudformation.deployed import DeployedStack
from tributary.cloudformation.deployer import DeployError
from tributary.emulator import EmulatorError
from tributary.emulators import EMULATORS, make_emulator
from tributary.foreground import run_until_stopped
from tributary.options import DataDir
from tributary.paths import default_data_dir
from tributary.processes import ProcessStartError
from tributary.stack import StackError

console = Console()


def _table(stack: DeployedStack) -> Table:
    info = stack.describe()
    table = Table(
        title=f"Tributary deployed by CloudFormation on {info['emulator']} ({info['aws_endpoint']})"
    )
    table.add_column("stack", style="bold")
    table.add_column("status")
    table.add_column("placeholders (not created by the emulator)")
    for name, deployed in info["cloudformation"].items():
        table.add_row(name, deployed["status"], ", ".join(sorted(set(deployed["placeholders"].values()))))
    for name, svc in info["services"].items():
        table.add_row(name, svc["url"], "pid " + ", ".join(str(p) for p in svc["pids"]))
    table.add_row("stack.json", str(stack.stack_file), "")
    return table


def deploy_local(
    emulator: Annotated[
        str,
        typer.Option(
            help="The emulator to start and deploy into: ministack or localstack.", envvar="EMULATOR"
        ),
    ] = "ministack",
    data_dir: DataDir = None,
) -> None:
    """Synthesize the CDK app (local profile), deploy every stack into the emulator's CloudFormation, run
    each service with its task definition's environment; Ctrl-C stops it all."""
    if emulator not in EMULATORS:
        console.print(f"[red]unknown emulator {emulator!r}[/] (known: {', '.join(EMULATORS)})")
        raise typer.Exit(2)
    folder = (data_dir or default_data_dir()).resolve()
    stack = DeployedStack(data_dir=folder, emulator=make_emulator(emulator, folder))
    run_until_stopped(
        stack,
        console=console,
        starting="synthesizing and deploying the stacks…",
        ready="[green]deployed[/] — Ctrl-C to stop",
        table=lambda: _table(stack),
        errors=(StackError, EmulatorError, ProcessStartError, SynthError, DeployError),
    )


def register(app: typer.Typer) -> None:
    app.command("deploy-local")(deploy_local)
