"""A stack run in the foreground until Ctrl-C: the stop signals, and watching its processes meanwhile.

Ctrl-C, SIGTERM and a closed terminal (SIGHUP) all raise ``KeyboardInterrupt``, so the stack stops in
order; once stopping has begun every further signal is ignored, so a second Ctrl-C cannot cut the teardown
short and leave an emulator or a worker running.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from tributary.stack import Stack

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def stop_on_signals() -> dict[int, Any]:
    """Every stop signal raises ``KeyboardInterrupt`` from now on; returns the handlers it replaced."""
    return {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}


def ignore_signals() -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    ignore_signals()
    raise KeyboardInterrupt


def watch(stack: Stack, console: Console) -> NoReturn:
    """Block until interrupted, reporting (once each) services that died."""
    reported: set[int] = set()
    while True:
        for procs in stack.supervisor.processes.values():
            for proc in procs:
                if not proc.alive and proc.pid not in reported:
                    reported.add(proc.pid)
                    code = proc.proc.returncode
                    console.print(
                        f"[red]{proc.service}[{proc.replica}] exited with {code}[/] (log {proc.log_path})"
                    )
        time.sleep(1.0)


def run_until_stopped(
    stack: Stack,
    *,
    console: Console,
    starting: str,
    ready: str,
    table: Callable[[], Table],
    errors: tuple[type[Exception], ...],
) -> NoReturn:
    """Start ``stack`` (showing ``starting``), print ``table()`` and ``ready``, watch it until Ctrl-C, stop
    it; exit 0, or 1 when it failed with one of ``errors`` (printed)."""
    stop_on_signals()
    code = 0
    try:
        with console.status(starting):
            stack.start()
        console.print(table())
        console.print(ready)
        watch(stack, console)
    except KeyboardInterrupt:
        console.print("stopping…")
    except errors as exc:
        console.print(f"[red]failed:[/] {exc}")
        code = 1
    finally:
        ignore_signals()
        stack.stop()
    raise typer.Exit(code)
