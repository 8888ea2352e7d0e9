"""Loaded for every test path under tests/ (and for ``testpaths``), in pytest's main process too."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` groups the stack tests by session stack and by module (tests/support/grouping)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.support.grouping import StackGroupScheduling

    return StackGroupScheduling(config, log)
