"""The only place archiver reads settings and builds clients."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from archiver.adapters.s3 import S3ArchiveStore
from archiver.handler import ArchiveWriter
from archiver.manifest import MANIFEST
from shared import aws
from shared.idempotency import IdempotencyLedger
from shared.idempotency.dynamodb import DynamoLedger
from shared.idempotency.sqlite import SqliteLedger
from shared.observe import traced
from shared.service import Service
from shared.settings import WorkerSettings
from shared.sqs import worker_queue


class ArchiverSettings(WorkerSettings):
    """archiver's settings (``TRIBUTARY_*``): big, slow-filling batches make few, large objects.

    The latency it trades: the archiver does not hand a batch over when the queue looks drained (the other
    workers do, ``batch_flush_when_drained``), only when it holds ``batch_max_events`` (1,000) events or
    ``batch_max_bytes`` (8 MiB), or when ``batch_max_wait_ms`` (5 s) has passed since its first message. So
    under light load an event reaches S3 up to 5 s after it reached the queue (plus one write), and each
    object holds everything of its window rather than one receive's handful; under load objects fill to
    1,000 events before the window ends. Fewer, bigger objects mean fewer S3 PUTs and ledger writes per
    event and faster lake scans; ``TRIBUTARY_BATCH_FLUSH_WHEN_DRAINED=true`` trades them back for
    sub-second archiving.

    The idempotency ledger is the service's state table (``TRIBUTARY_STATE_BACKEND``,
    ``TRIBUTARY_STATE_TABLE``), which the local stack and the CDK app set as for every service whose
    manifest declares ``state_table``: DynamoDB where the endpoint serves it (AWS, MiniStack), so every task
    and Lambda environment shares one ledger; else a SQLite file under the data folder (one host).
    """

    service: str = MANIFEST.name
    bucket: str
    visibility_timeout_s: int = MANIFEST.queue.visibility_timeout_s
    batch_max_events: int = 1000
    batch_max_bytes: int = 8 * 1024 * 1024
    batch_max_wait_ms: int = 5000
    batch_flush_when_drained: bool = False
    dedupe_window_s: float = Field(default=7 * 24 * 3600, ge=60)
    state_backend: Literal["sqlite", "dynamodb"] = "sqlite"
    state_table: str = "tributary-archiver-ledger"
    state_table_create: bool = False


def build_ledger(settings: ArchiverSettings) -> IdempotencyLedger:
    """The configured ledger, its client built here."""
    if settings.state_backend == "dynamodb":
        dynamodb = aws.client("dynamodb")
        ledger = DynamoLedger(
            client=dynamodb,
            api=aws.lean_api("dynamodb", enabled=settings.aws_lean_calls, like=dynamodb),
            table=settings.state_table,
            window_s=settings.dedupe_window_s,
        )
        if settings.state_table_create:
            ledger.ensure_table()
        return ledger
    return SqliteLedger(settings.data_dir / "ledger.sqlite3")


def build(settings: ArchiverSettings) -> Service:
    """The queue and the batch handler, wired to SQS, S3 and the ledger."""
    on_dynamodb = settings.state_backend == "dynamodb"
    writer = ArchiveWriter(
        store=traced(S3ArchiveStore(client=aws.client("s3"), bucket=settings.bucket), store="S3", aws=True),
        ledger=traced(build_ledger(settings), store="DynamoDB" if on_dynamodb else "SQLite", aws=on_dynamodb),
        lease_s=settings.visibility_timeout_s,
        dedupe_window_s=settings.dedupe_window_s,
    )
    return Service(
        name=MANIFEST.name,
        settings=settings,
        queue=worker_queue(settings),
        handler=writer,
        consumes=MANIFEST.consumes,
    )
