"""The `tributary` command: its commands, and `up` from start to a clean SIGTERM stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from tributary.cli import app


def test_help_lists_the_commands() -> None:
    """`tributary --help` offers up and demo."""
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "up" in result.output
    assert "demo" in result.output


def test_up_runs_until_sigterm_then_cleans_up(tmp_path: Path) -> None:
    """`tributary up` writes stack.json, and SIGTERM stops every process it started and exits 0."""
    out = tmp_path / "up.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tributary.cli", "up", "--data-dir", str(tmp_path / "data")],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack_file = tmp_path / "data" / "stack.json"
    try:
        deadline = time.monotonic() + 90
        while "Ctrl-C to stop" not in out.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stack_file.exists(), out.read_text()
        info = json.loads(stack_file.read_text())
        pids = [info["emulator_pid"], *(pid for svc in info["services"].values() for pid in svc["pids"])]
        assert info["ingest_url"]
        assert all(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    output = out.read_text()
    assert proc.returncode == 0, output
    assert "Tributary local stack" in output
    assert "stopping" in output
    assert not stack_file.exists()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
