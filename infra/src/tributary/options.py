"""Options every ``tributary`` command spells the same way, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder of the local stack [default: .tributary/ at the repo root]"),
]
