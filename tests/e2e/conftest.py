"""The e2e suite's stack: a fresh local stack, or a running one named by ``TRIBUTARY_STACK_FILE``.

Tests see only the stack's description (``stack.json``) and talk to its endpoints, so the same tests run
against LocalStack on the host, an emulator elsewhere, or a deployment on AWS.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tributary.client import StackClient
from tributary.stack import Stack

# Short waits so a test's end state is reached in seconds, not in production-sized batching windows.
E2E_SERVICE_ENV = {
    "archiver": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000", "TRIBUTARY_RECEIVE_WAIT_S": "1"},
}


@pytest.fixture(scope="session")
def stack_description(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    external = os.environ.get("TRIBUTARY_STACK_FILE")
    if external:
        yield json.loads(Path(external).read_text(encoding="utf-8"))
        return
    with Stack(data_dir=tmp_path_factory.mktemp("stack"), service_env=E2E_SERVICE_ENV) as stack:
        yield stack.describe()


@pytest.fixture(scope="session")
def stack(stack_description: dict[str, Any]) -> StackClient:
    return StackClient(stack_description)
