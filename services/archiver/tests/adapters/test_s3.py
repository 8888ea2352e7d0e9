"""Tests of the S3 adapter: what it stores (moto) and how S3 errors become RetryableError (Stubber)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.stub import Stubber

from archiver.adapters.s3 import S3ArchiveStore
from archiver.domain import decode, encode
from archiver.ports import WriteOutcomeUnknown
from shared.errors import RetryableError
from shared.testkit.envelopes import envelope

BUCKET = "tributary-archive"
KEY = "events/type=sensor.reading/version=1/dt=2025-06-01/hour=00/flush-1.ndjson.gz"


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_put_stores_the_body_as_gzip_ndjson(s3: Any) -> None:
    """The object holds exactly the encoded events, typed as gzip NDJSON; each put is counted."""
    store = S3ArchiveStore(client=s3, bucket=BUCKET)
    events = [envelope(), envelope("order.placed")]
    store.put(KEY, encode(events))
    obj = s3.get_object(Bucket=BUCKET, Key=KEY)
    assert obj["ContentType"] == "application/x-ndjson+gzip"
    assert decode(obj["Body"].read()) == events
    assert store.exists(KEY) is True
    assert store.puts == 1


def test_exists_is_false_for_a_missing_key(s3: Any) -> None:
    """A key never written does not exist (S3 answers 404 to the HEAD)."""
    assert S3ArchiveStore(client=s3, bucket=BUCKET).exists(KEY) is False


def test_a_put_to_a_missing_bucket_is_retryable(aws: None) -> None:
    """NoSuchBucket on put becomes RetryableError, chained to the ClientError."""
    store = S3ArchiveStore(client=boto3.client("s3", region_name="us-east-1"), bucket="no-such-bucket")
    with pytest.raises(RetryableError, match=r"S3 put of .* failed") as caught:
        store.put(KEY, b"x")
    assert isinstance(caught.value.__cause__, ClientError)


@pytest.fixture
def stubbed() -> Iterator[tuple[S3ArchiveStore, Stubber]]:
    client = boto3.session.Session().client(
        "s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield S3ArchiveStore(client=client, bucket=BUCKET), stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["404", "NoSuchKey", "NotFound"])
def test_not_found_answers_mean_the_object_is_absent(
    stubbed: tuple[S3ArchiveStore, Stubber], code: str
) -> None:
    """Each way S3 says "not found" to a HEAD reads as False, not as an error."""
    store, stubber = stubbed
    stubber.add_client_error(
        "head_object", code, http_status_code=404, expected_params={"Bucket": BUCKET, "Key": KEY}
    )
    assert store.exists(KEY) is False


@pytest.mark.parametrize(("code", "status"), [("403", 403), ("SlowDown", 503), ("InternalError", 500)])
def test_other_head_errors_are_retryable(
    stubbed: tuple[S3ArchiveStore, Stubber], code: str, status: int
) -> None:
    """Denied, throttled or failing HEADs raise RetryableError rather than claiming the object is absent."""
    store, stubber = stubbed
    stubber.add_client_error("head_object", code, http_status_code=status)
    with pytest.raises(RetryableError, match="S3 head of") as caught:
        store.exists(KEY)
    assert isinstance(caught.value.__cause__, ClientError)


def test_put_errors_are_retryable(stubbed: tuple[S3ArchiveStore, Stubber]) -> None:
    """A failed put (here SlowDown) raises RetryableError."""
    store, stubber = stubbed
    stubber.add_client_error("put_object", "SlowDown", http_status_code=503)
    with pytest.raises(RetryableError):
        store.put(KEY, b"x")


def test_an_unreachable_store_is_retryable() -> None:
    """Connection errors (BotoCoreError, not ClientError) raise RetryableError from put and exists."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1),
    )
    store = S3ArchiveStore(client=client, bucket=BUCKET)
    for call in (lambda: store.put(KEY, b"x"), lambda: store.exists(KEY)):
        with pytest.raises(RetryableError) as caught:
            call()
        assert isinstance(caught.value.__cause__, BotoCoreError)


def test_a_put_that_times_out_after_sending_has_an_unknown_outcome() -> None:
    """A read timeout on put (S3 may have stored it) raises WriteOutcomeUnknown, a RetryableError."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client = boto3.session.Session().client(
            "s3",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{server.getsockname()[1]}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1),
        )
        with pytest.raises(WriteOutcomeUnknown, match="may have failed") as caught:
            S3ArchiveStore(client=client, bucket=BUCKET).put(KEY, b"x")  # accepted, never answered
    assert isinstance(caught.value, RetryableError)
    assert isinstance(caught.value.__cause__, BotoCoreError)


def test_a_put_that_never_connects_is_a_definite_failure() -> None:
    """Nothing listening: the put surely did not land, so it is a plain RetryableError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1),
    )
    with pytest.raises(RetryableError) as caught:
        S3ArchiveStore(client=client, bucket=BUCKET).put(KEY, b"x")
    assert not isinstance(caught.value, WriteOutcomeUnknown)
