"""S3 adapter of :class:`~archiver.ports.ArchiveStore`.

A put that S3 answered with an error, or that never connected, did not store the object: a definite
:class:`~shared.errors.StoreUnavailable` (not the events' fault, so the worker holds them). One whose
connection timed out or closed after the request was sent may have stored it
(:class:`~archiver.ports.WriteOutcomeUnknown`). The client's connect and read timeouts come from
:func:`shared.aws.client`; botocore's own retries of a put go to the same key with the same body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as NotConnected

from archiver.ports import WriteOutcomeUnknown
from shared.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3ArchiveStore:
    """One bucket, through an injected boto3 ``s3`` client."""

    def __init__(self, *, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket
        self.puts = 0

    def put(self, key: str, body: bytes) -> None:
        self.puts += 1
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson+gzip"
            )
        except (ClientError, NotConnected) as exc:
            raise StoreUnavailable(f"S3 put of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise WriteOutcomeUnknown(f"S3 put of {key} may have failed: {type(exc).__name__}") from exc

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise StoreUnavailable(f"S3 head of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"S3 head of {key} failed: {exc}") from exc
        return True
