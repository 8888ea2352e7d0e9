"""Compaction: a closed hour's many small archive objects rewritten as one, without losing or duplicating
an event.

The archiver writes one object per flush per partition, so a busy hour holds hundreds of small gzip
objects, which make Athena slow and costly (it opens every one). ``compact`` rewrites each partition whose
hour ended before ``before`` and holds more than one object into a single gzip NDJSON object (the
archiver's own format, :func:`archiver.domain.encode`, so Athena, the local lake, replay and redrive
read it unchanged), each event id once:

1. read every object of the partition (a partition with an unreadable object or line is left alone and
   reported: compaction never drops what it cannot read);
2. write ``compacted-<hash of the ids>.ndjson.gz`` (the name follows from the content, so a re-run after a
   crash writes the same key with the same bytes);
3. only then delete the objects it read (never one it did not read: an object landing meanwhile stays and
   is merged next time).

A crash between 2 and 3 leaves each event in two objects; every reader (the local lake, replay) dedupes by
id, and the next run merges them. Partitions are by event time, so a late event can still land in a
compacted hour; it is merged by the next run.

Parquet was considered (DuckDB writes it without extensions, Athena reads it) but replay, redrive and the
raw ``events`` Glue table read gzip NDJSON; one bigger object per hour already removes the cost of many
small ones.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import batched
from typing import TYPE_CHECKING

from archiver.domain import Partition, encode, object_key
from contracts import Envelope
from tributary.lake.archive import ArchiveObject, UnreadableObject, envelopes, fetch, list_objects

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

COMPACTED = "compacted-"


@dataclass(kw_only=True)
class CompactReport:
    partitions: int = 0
    compacted: int = 0
    open_partitions: int = 0
    objects_read: int = 0
    objects_deleted: int = 0
    events: int = 0
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)


def hour_end(partition: Partition) -> datetime:
    start = datetime.strptime(f"{partition.dt} {partition.hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)
    return start + timedelta(hours=1)


def compacted_id(ids: list[str]) -> str:
    """The flush id of a compacted object: from the (sorted) ids it holds, so equal content, equal key."""
    digest = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:20]
    return f"{COMPACTED}{digest}"


def compact(s3: S3Client, bucket: str, *, before: datetime, dry_run: bool = False) -> CompactReport:
    """Compact every partition of ``bucket`` whose hour ended at or before ``before``."""
    report = CompactReport()
    partitions: dict[Partition, list[ArchiveObject]] = defaultdict(list)
    for obj in list_objects(s3, bucket):
        partitions[obj.partition].append(obj)
    for partition, objects in sorted(partitions.items()):
        report.partitions += 1
        if hour_end(partition) > before:
            report.open_partitions += 1
            continue
        if len(objects) < 2:
            continue
        _compact_partition(s3, bucket, partition, objects, report, dry_run=dry_run)
    return report


def _compact_partition(
    s3: S3Client,
    bucket: str,
    partition: Partition,
    objects: list[ArchiveObject],
    report: CompactReport,
    *,
    dry_run: bool,
) -> None:
    unique: dict[str, Envelope] = {}
    try:
        for obj in objects:
            for event in envelopes(fetch(s3, bucket, obj), obj.key):
                if event.id in unique:
                    report.duplicates += 1
                else:
                    unique[event.id] = event
    except UnreadableObject as exc:
        report.skipped.append(f"{exc!s} (partition left as it is)")
        return
    report.objects_read += len(objects)
    report.events += len(unique)
    report.compacted += 1
    if dry_run:
        return
    events = sorted(unique.values(), key=lambda e: (e.time, e.id))
    key = object_key(partition, compacted_id(list(unique)))
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=encode(events),
        ContentType="application/x-ndjson+gzip",
    )
    stale = [obj.key for obj in objects if obj.key != key]
    for chunk in batched(stale, 1000, strict=False):
        response = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
        )
        errors = response.get("Errors", [])
        report.objects_deleted += len(chunk) - len(errors)
        report.skipped.extend(
            f"{e['Key']}: not deleted ({e.get('Code')}); merged again next run" for e in errors
        )
