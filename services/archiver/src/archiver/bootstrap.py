"""The only place archiver reads settings and builds clients."""

from __future__ import annotations

from pydantic import Field

from archiver.adapters.s3 import S3ArchiveStore
from archiver.handler import ArchiveWriter
from archiver.manifest import MANIFEST
from shared import aws
from shared.idempotency import SqliteLedger
from shared.observe import traced
from shared.service import Service
from shared.settings import WorkerSettings
from shared.sqs import SqsQueue


class ArchiverSettings(WorkerSettings):
    """archiver's settings (``TRIBUTARY_*``): big, slow-filling batches make few, large objects."""

    service: str = MANIFEST.name
    bucket: str
    visibility_timeout_s: int = MANIFEST.queue.visibility_timeout_s
    batch_max_events: int = 1000
    batch_max_bytes: int = 8 * 1024 * 1024
    batch_max_wait_ms: int = 5000
    dedupe_window_s: float = Field(default=7 * 24 * 3600, ge=60)


def build(settings: ArchiverSettings) -> Service:
    """The queue and the batch handler, wired to SQS, S3 and the ledger file."""
    writer = ArchiveWriter(
        store=traced(S3ArchiveStore(client=aws.client("s3"), bucket=settings.bucket), store="S3", aws=True),
        ledger=traced(SqliteLedger(settings.data_dir / "ledger.sqlite3"), store="SQLite"),
        lease_s=settings.visibility_timeout_s,
        dedupe_window_s=settings.dedupe_window_s,
    )
    return Service(
        name=MANIFEST.name,
        settings=settings,
        queue=SqsQueue(client=aws.client("sqs"), queue_url=settings.queue_url, dlq_url=settings.dlq_url),
        handler=writer,
        consumes=MANIFEST.consumes,
    )
