"""How ``make test`` spreads the stack tests over its processes (``pytest -n 2 --dist loadgroup``).

A work unit is one emulator's tests (they share that emulator's session stack, so it starts once) or one
module's tests (they share the module's own stack: the fault run, the deployed topology, a crash stack).
The unit is read from the test's id: xdist's own ``xdist_group`` marks reach the scheduler through the node
id, which pytest 9.2 no longer lets a plugin change, so they group nothing there.
"""

from __future__ import annotations

import re

from xdist.scheduler import LoadScopeScheduling

from tributary.emulators import EMULATORS, ENDPOINT

# The session stacks' modes (tests/e2e/conftest.py ``emulator_name``): each is a parameter id.
MODES = frozenset({*EMULATORS, ENDPOINT, "external"})


def stack_group(nodeid: str) -> str:
    """The work unit of a test: its stack's mode when it runs on a session stack, else its module."""
    module = nodeid.split("::", 1)[0]
    params = re.search(r"\[([^\]]*)\]$", nodeid)
    if params:
        mode = next((token for token in params.group(1).split("-") if token in MODES), None)
        if mode:
            return mode
    return module


class StackGroupScheduling(LoadScopeScheduling):
    """Load scheduling by :func:`stack_group`: each unit runs whole in one process, biggest first."""

    def _split_scope(self, nodeid: str) -> str:
        return stack_group(nodeid)
