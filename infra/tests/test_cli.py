"""The `tributary` command: its commands, and `up` from start to a clean SIGTERM stop."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
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
        console = httpx.get(f"{info['console_url']}/api/stack", timeout=10)
        assert console.status_code == 200 and console.json()["bus_name"] == info["bus_name"]
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    output = out.read_text()
    assert proc.returncode == 0, output
    assert "Tributary local stack" in output
    assert "stopping" in output
    assert not stack_file.exists()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert "console" in output


def test_console_serves_a_stack_file_until_sigterm(tmp_path: Path) -> None:
    """`tributary console --stack-file` serves the page for that description and stops on SIGTERM."""
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(
        json.dumps({"bus_name": "b", "aws_endpoint": "http://127.0.0.1:9", "region": "us-east-1"}),
        encoding="utf-8",
    )
    out = tmp_path / "console.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tributary.cli", "console", "--stack-file", str(stack_file)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in out.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        match = re.search(r"http://127\.0\.0\.1:\d+", out.read_text())
        assert match, out.read_text()
        assert httpx.get(match.group(0) + "/api/stack", timeout=10).json()["bus_name"] == "b"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, out.read_text()


def test_console_without_a_stack_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["console", "--stack-file", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "no stack description" in result.output
