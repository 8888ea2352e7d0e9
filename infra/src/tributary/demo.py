"""The demo: a placeholder until the demo module lands (``make demo`` calls :func:`run_demo`)."""

from __future__ import annotations

from pathlib import Path


def run_demo(*, data_dir: Path | None = None) -> None:
    """Run the end-to-end demo on a fresh local stack in ``data_dir`` (default ``.tributary/``).

    Raises:
        NotImplementedError: always, until the demo is written.
    """
    raise NotImplementedError("the demo is not written yet")
