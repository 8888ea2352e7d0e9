"""What the operator commands share: the console, the common options, choosing the target, failures."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from tributary.operators.letters import FILTER_HELP
from tributary.operators.target import Target, TargetError, aws_target, local_target
from tributary.stack import StackError

console = Console()

Profile = Annotated[
    str | None, typer.Option("--profile", help="AWS profile: act on AWS, not the local stack.")
]
Region = Annotated[str | None, typer.Option("--region", help="AWS region: act on AWS, not the local stack.")]
Bus = Annotated[str, typer.Option("--bus", help="The bus on AWS (prefix of queue and rule names).")]
Bucket = Annotated[
    str | None, typer.Option("--bucket", envvar="TRIBUTARY_BUCKET", help="The archive bucket.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Service = Annotated[str, typer.Argument(help="The worker service whose DLQ this is.")]
Filters = Annotated[list[str] | None, typer.Option("--filter", help=f"Repeatable. {FILTER_HELP}")]
Since = Annotated[str | None, typer.Option("--since", help="Failed at or after: 2h, 3d, 2026-11-20T14:00Z.")]
Rate = Annotated[str | None, typer.Option("--rate", help="At most this many per second: 50, 50/s, 600/m.")]
Concurrency = Annotated[int, typer.Option("--concurrency", min=1, max=32, help="Threads moving messages.")]


def logs_to_stderr() -> None:
    """Library log lines (structlog) go to stderr, warnings only: the output is the tables."""
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),  # the stderr of the moment
        # A logger cached by an earlier configuration would keep writing to a stream that may be closed.
        cache_logger_on_first_use=False,
    )


def target_for(
    data_dir: Path | None, profile: str | None, region: str | None, bus: str, bucket: str | None
) -> Target:
    logs_to_stderr()
    if profile or region:
        return aws_target(profile=profile, region=region, bus_name=bus, bucket=bucket)
    target = local_target(data_dir)
    target.bucket = bucket or target.bucket
    return target


@contextmanager
def failures() -> Iterator[None]:
    """Turn expected failures into one red line and an exit code; Ctrl-C exits 130."""
    try:
        yield
    except (StackError, TargetError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    except (ClientError, BotoCoreError) as exc:
        console.print(f"[red]AWS call failed:[/] {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
