"""Choosing the stack's emulator by name: ``TRIBUTARY_EMULATOR`` (``make … EMULATOR=…``), else LocalStack."""

from __future__ import annotations

import os
from pathlib import Path

from tributary.emulator import Emulator
from tributary.localstack import LocalStackEmulator
from tributary.ministack import MiniStackEmulator

EMULATORS: dict[str, type[LocalStackEmulator] | type[MiniStackEmulator]] = {
    "localstack": LocalStackEmulator,
    "ministack": MiniStackEmulator,
}
DEFAULT_EMULATOR = "localstack"


def default_emulator_name() -> str:
    """``$TRIBUTARY_EMULATOR`` or ``localstack``."""
    return os.environ.get("TRIBUTARY_EMULATOR") or DEFAULT_EMULATOR


def make_emulator(name: str, data_dir: Path) -> Emulator:
    """The emulator called ``name``, not started yet.

    Raises:
        ValueError: ``name`` is not a known emulator.
    """
    try:
        return EMULATORS[name](data_dir)
    except KeyError:
        raise ValueError(f"unknown emulator {name!r} (known: {', '.join(EMULATORS)})") from None
