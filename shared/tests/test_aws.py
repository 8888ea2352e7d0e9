"""Tests of the boto3 clients every service builds (:mod:`shared.aws`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared import aws

_ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
# In a fresh process: a first client imports what clients need, then the Python memory a second one keeps.
_RETAINED = """
import gc, tracemalloc
from shared import aws
first = aws.client("sqs")
gc.collect()
tracemalloc.start()
second = aws.client("dynamodb")
gc.collect()
print(tracemalloc.get_traced_memory()[0])
"""


def test_a_client_does_not_keep_botocores_endpoint_table() -> None:
    """Building a client parses botocore's whole endpoint table (~7 MB of dicts), which its loader cached for
    the client's lifetime; the client keeps only what it uses (~1 MB), so services with several clients do
    not pay 7 MB for each."""
    out = subprocess.run(
        [sys.executable, "-c", _RETAINED], capture_output=True, text=True, check=True, env=os.environ | _ENV
    ).stdout
    retained_mb = int(out) / 1e6
    assert retained_mb < 3, f"a second client keeps {retained_mb:.1f} MB of Python memory"


def test_a_client_still_loads_what_it_needs_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paginators and waiters come from files the client's loader reads when asked (the cache it dropped
    only held what building the client needed)."""
    for name, value in _ENV.items():
        monkeypatch.setenv(name, value)
    client = aws.client("dynamodb")
    assert client.can_paginate("scan")
    assert client.get_paginator("scan") is not None
    assert client.get_waiter("table_exists").name == "TableExists"
