"""Where things live: the workspace root, the data folder, LocalStack's interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tributary.paths import default_data_dir, localstack_python, repo_root


def test_repo_root_is_the_workspace_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a member folder, the root is the nearest folder with a uv workspace."""
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = ['svc']\n")
    member = tmp_path / "svc" / "src"
    member.mkdir(parents=True)
    (tmp_path / "svc" / "pyproject.toml").write_text("[project]\nname = 'svc'\n")
    assert repo_root(member) == tmp_path
    monkeypatch.chdir(member)
    assert default_data_dir() == tmp_path / ".tributary"


def test_outside_a_workspace_the_cwd_is_the_root(tmp_path: Path) -> None:
    """With no workspace above, the starting folder is used."""
    assert repo_root(tmp_path) == tmp_path


def test_localstack_python_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """TRIBUTARY_LOCALSTACK_PYTHON wins over <root>/.localstack-venv."""
    monkeypatch.delenv("TRIBUTARY_LOCALSTACK_PYTHON", raising=False)
    monkeypatch.chdir(tmp_path)
    assert localstack_python() == tmp_path / ".localstack-venv" / "bin" / "python"
    monkeypatch.setenv("TRIBUTARY_LOCALSTACK_PYTHON", "/opt/ls/bin/python")
    assert localstack_python() == Path("/opt/ls/bin/python")
