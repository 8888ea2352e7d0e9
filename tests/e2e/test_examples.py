"""The SDK examples (``examples/``, one per seed domain) run against the stack, through ingest and the bus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUNS = [
    ("sensor_readings.py", 3, ()),
    ("sensor_readings.py", 3, ("--bus",)),
    ("device_registration.py", 3, ()),
    ("cat_sightings.py", 2, ("--bus",)),
    ("orders.py", 1, ()),
    ("trades.py", 1, ()),
]


@pytest.mark.parametrize(("script", "events", "args"), RUNS, ids=lambda v: v if isinstance(v, str) else None)
def test_example_publishes_every_event(
    script: str, events: int, args: tuple[str, ...], stack_description: dict[str, Any], tmp_path: Path
) -> None:
    """Each example exits 0 and reports every one of its events published."""
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps(stack_description), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env={"TRIBUTARY_STACK_FILE": str(stack_file), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert len(lines) == events and all(line.endswith(": published") for line in lines), lines
