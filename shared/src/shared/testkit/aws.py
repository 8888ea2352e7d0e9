"""moto's in-process AWS for adapter tests, sealed off from any real stack.

moto (a dev dependency) is imported only here, so only the tests that use it load it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from moto import mock_aws

if TYPE_CHECKING:
    import pytest

REGION = "us-east-1"


@contextmanager
def in_process_aws(monkeypatch: pytest.MonkeyPatch, *unset: str, region: str = REGION) -> Iterator[None]:
    """moto's AWS with fake credentials in ``region``. Every ``AWS_ENDPOINT_URL*`` variable, ``AWS_PROFILE``
    and the ``unset`` variables are removed first, so no client can reach a real stack or account; services
    built here make every call through boto3 (``TRIBUTARY_AWS_LEAN_CALLS=false``), which moto intercepts."""
    endpoints = [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]
    for name in (*endpoints, "AWS_PROFILE", *unset):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("TRIBUTARY_AWS_LEAN_CALLS", "false")  # moto answers boto3's calls, not the lean ones
    with mock_aws():
        yield
