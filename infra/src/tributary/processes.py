"""Child processes of the local stack: spawn with a log file, wait for health, stop with escalation.

Every child runs in its own session (process group) so that a Ctrl-C in the terminal reaches only the
``tributary`` process, which then stops the children in order; the group is what gets signalled, so
anything a child spawns goes with it. On Linux a child also gets SIGTERM if its parent dies, so a killed
test runner does not leave an emulator behind (the kernel ties this to the *thread* that started the child:
start a stack from a thread that outlives it, such as the main thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


class ProcessStartError(RuntimeError):
    """A child process exited or never became healthy; the message ends with its log tail."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> None:
    if sys.platform == "linux":
        with suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: Sequence[str], *, env: Mapping[str, str], log_path: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session with stdout and stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only calls prctl: safe between fork and exec
        )


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_processes(procs: Sequence[subprocess.Popen[bytes]], *, timeout_s: float) -> list[int]:
    """SIGTERM every process group, wait up to ``timeout_s`` in all, then SIGKILL what is left.

    Returns:
        the pids that had to be killed.
    """
    for proc in procs:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    killed: list[int] = []
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            killed.append(proc.pid)
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        # The group may outlive its leader (a grandchild that ignored SIGTERM).
        _signal_group(proc, signal.SIGKILL)
    return killed


def kill_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group at once and reap the leader (crash tests)."""
    _signal_group(proc, signal.SIGKILL)
    proc.wait()


def wait_healthy(
    checks: Mapping[str, tuple[subprocess.Popen[bytes], str, Path]], *, timeout_s: float
) -> None:
    """Poll each ``name -> (process, url, log)`` until its URL answers 200.

    Raises:
        ProcessStartError: a process exited, or a URL did not answer 200 within ``timeout_s``; the message
            carries that process's log tail.
    """
    pending = dict(checks)
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1.0, trust_env=False) as http:
        while pending:
            for name, (proc, url, log) in list(pending.items()):
                code = proc.poll()
                if code is not None:
                    raise ProcessStartError(
                        f"{name} exited with {code} before it was healthy\n{log_tail(log)}"
                    )
                with suppress(httpx.HTTPError):
                    if http.get(url).status_code == 200:
                        del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                name, (_, url, log) = next(iter(pending.items()))
                raise ProcessStartError(
                    f"{name} not healthy at {url} after {timeout_s:.0f} s\n{log_tail(log)}"
                )
            time.sleep(0.05)
