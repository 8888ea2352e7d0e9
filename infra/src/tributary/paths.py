"""Where the local stack keeps things: the repository root, its data folder and the emulators' virtualenvs."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_NAME = ".tributary"
LOCALSTACK_VENV_NAME = ".localstack-venv"
MINISTACK_VENV_NAME = ".ministack-venv"


def repo_root(start: Path | None = None) -> Path:
    """The workspace root: the nearest folder at or above ``start`` (default: cwd) holding ``uv.lock`` or a
    workspace ``pyproject.toml``; ``start`` itself when there is none (an installed CLI outside a clone)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "uv.lock").is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text(encoding="utf-8"):
            return folder
    return here


def default_data_dir() -> Path:
    """``.tributary/`` at the repository root (gitignored)."""
    return repo_root() / DATA_DIR_NAME


def localstack_python() -> Path:
    """The interpreter of LocalStack's own virtualenv: ``$TRIBUTARY_LOCALSTACK_PYTHON``, else the one
    ``make install`` builds at ``<repo>/.localstack-venv``."""
    override = os.environ.get("TRIBUTARY_LOCALSTACK_PYTHON")
    if override:
        return Path(override)
    return repo_root() / LOCALSTACK_VENV_NAME / "bin" / "python"


def ministack_executable() -> Path:
    """MiniStack's launcher: ``$TRIBUTARY_MINISTACK``, else the one ``make install`` builds in
    ``<repo>/.ministack-venv``."""
    override = os.environ.get("TRIBUTARY_MINISTACK")
    if override:
        return Path(override)
    return repo_root() / MINISTACK_VENV_NAME / "bin" / "ministack"
