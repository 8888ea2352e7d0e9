"""The :class:`~archiver.ports.ArchiveStore` contract, run against the in-memory fake and S3 (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from archiver.adapters.s3 import S3ArchiveStore
from archiver.domain import encode
from archiver.ports import ArchiveStore
from archiver.testing import InMemoryArchiveStore
from shared.testkit.envelopes import envelope

KEY = "events/type=sensor.reading/version=1/dt=2025-06-01/hour=00/flush-1.ndjson.gz"


@pytest.fixture(params=["in-memory", "s3"])
def archive(request: pytest.FixtureRequest, aws: None) -> Iterator[ArchiveStore]:
    """Each ArchiveStore implementation in turn, over an empty bucket."""
    if request.param == "in-memory":
        yield InMemoryArchiveStore()
        return
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="tributary-archive")
    yield S3ArchiveStore(client=client, bucket="tributary-archive")


def test_an_object_exists_once_put(archive: ArchiveStore) -> None:
    """``exists`` is False before the put and True after it."""
    assert archive.exists(KEY) is False
    archive.put(KEY, encode([envelope()]))
    assert archive.exists(KEY) is True


def test_a_missing_key_does_not_exist(archive: ArchiveStore) -> None:
    """Another key, even one sharing the prefix, is not there."""
    archive.put(KEY, b"x")
    assert archive.exists(KEY.removesuffix(".ndjson.gz")) is False
    assert archive.exists(KEY + ".tmp") is False


def test_putting_the_same_object_again_is_harmless(archive: ArchiveStore) -> None:
    """A put is idempotent for the same key and body."""
    body = encode([envelope()])
    archive.put(KEY, body)
    archive.put(KEY, body)
    assert archive.exists(KEY) is True
