"""S3 adapter of :class:`~archiver.ports.ArchiveStore`.

Every failure is :class:`~shared.errors.StoreUnavailable`: the archiver writes objects it encoded itself,
so a failing put (throttling, 5xx, timeouts, a missing bucket or permission) is the store's or the
deployment's problem, never the events'; the worker holds them until S3 takes them again.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import StoreUnavailable


class S3ArchiveStore:
    """One bucket, through an injected boto3 ``s3`` client."""

    def __init__(self, *, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket
        self.puts = 0

    def put(self, key: str, body: bytes) -> None:
        self.puts += 1
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson+gzip"
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"S3 put of {key} failed: {exc}") from exc

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
