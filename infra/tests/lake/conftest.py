"""Fixtures for the lake: moto's in-process S3 holding the demo's events as the archiver writes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from archiver.domain import encode, object_key, partition_events
from contracts import Envelope, new_event_id
from tributary.producers import domain_events

REGION = "us-east-1"
BUCKET = "tributary-lake-test"
NOW = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)


@dataclass
class Archive:
    s3: Any
    bucket: str
    events: list[Envelope]


def demo_envelopes(per_domain: int = 200) -> list[Envelope]:
    """The demo's valid events (``tributary demo`` publishes 200 per domain) as ingest accepts them."""
    return [
        Envelope(id=new_event_id(), ingested_at=NOW + timedelta(seconds=1), **event)
        for event in domain_events(per_domain, now=NOW)
    ]


def archive_events(s3: Any, bucket: str, events: list[Envelope], *, flush: str = "flush") -> list[str]:
    """Write ``events`` as the archiver does: one object per partition of this flush."""
    keys = []
    for partition, group in partition_events(events).items():
        key = object_key(partition, flush)
        s3.put_object(Bucket=bucket, Key=key, Body=encode(group))
        keys.append(key)
    return keys


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def archive(s3: Any) -> Archive:
    """The demo's 800 events, archived in two flushes per partition (as two archiver batches would)."""
    events = demo_envelopes()
    half = len(events) // 2
    archive_events(s3, BUCKET, events[:half], flush="flush-a")
    archive_events(s3, BUCKET, events[half:], flush="flush-b")
    return Archive(s3, BUCKET, events)
