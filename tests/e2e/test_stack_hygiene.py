"""A running stack, on either emulator, listens only on loopback and keeps its files in its data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tributary.procnet import listeners

pytestmark = pytest.mark.e2e


def _pids(description: dict[str, Any]) -> set[int]:
    services = description["services"].values()
    emulator = {description["emulator_pid"]} - {None}  # None: an endpoint the stack does not run
    return {*emulator, *(pid for svc in services for pid in svc["pids"])}


def test_every_started_process_listens_on_loopback_only(
    stack_description: dict[str, Any], emulator_name: str
) -> None:
    """The emulator, every service and whatever they spawned bind 127.0.0.1 and nothing else."""
    if emulator_name == "external":
        pytest.skip("an external stack's processes are not ours to inspect")
    pids = _pids(stack_description)
    found = listeners(pids)
    assert {listener.pid for listener in found} >= pids, "every process serves at least its health port"
    assert [listener for listener in found if not listener.is_loopback] == []


def test_files_stay_under_the_data_folder(stack_description: dict[str, Any], emulator_name: str) -> None:
    """Logs, service state and the emulator's own files are all inside the stack's data folder."""
    if emulator_name == "external":
        pytest.skip("an external stack's files are not ours to inspect")
    data_dir = Path(stack_description["data_dir"])
    for service in stack_description["services"].values():
        for log in service["logs"]:
            assert Path(log).is_relative_to(data_dir)
    if stack_description["emulator_pid"] is not None:
        assert (data_dir / "logs" / f"{emulator_name}.log").is_file()
        assert (data_dir / emulator_name).is_dir()
