"""Compaction on moto's S3: one object per closed hour, each event once, crash-safe, replay unchanged."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from archiver.domain import decode, object_key, partition_of
from contracts import Envelope
from tributary.lake.archive import list_objects
from tributary.lake.compact import COMPACTED, compact
from tributary.lake.local import LocalLake
from tributary.operators.replay import ArchiveQuery, replay

from .conftest import BUCKET, NOW, Archive, archive_events

AFTER = NOW + timedelta(hours=2)  # every demo hour (the six before NOW) has ended


def _archived_ids(s3: Any) -> Counter[str]:
    """How many times each event id is in the archive."""
    ids: Counter[str] = Counter()
    for obj in list_objects(s3, BUCKET):
        body = s3.get_object(Bucket=BUCKET, Key=obj.key)["Body"].read()
        for line in gzip.decompress(body).splitlines():
            ids[json.loads(line)["id"]] += 1
    return ids


def test_each_closed_hour_becomes_one_object_with_every_event_once(archive: Archive) -> None:
    archive_events(archive.s3, BUCKET, archive.events[:100], flush="resent")  # a producer resending
    before = list_objects(archive.s3, BUCKET)
    report = compact(archive.s3, BUCKET, before=AFTER)
    after = list_objects(archive.s3, BUCKET)
    partitions = {o.partition for o in before}
    assert len(after) == len(partitions) == report.compacted
    assert all(o.flush_id.startswith(COMPACTED) for o in after)
    assert report.duplicates == 100
    assert report.objects_deleted == len(before)
    assert _archived_ids(archive.s3) == Counter(e.id for e in archive.events)
    for obj in after:  # each event stays in its own partition
        body = archive.s3.get_object(Bucket=BUCKET, Key=obj.key)["Body"].read()
        assert {partition_of(e) for e in decode(body)} == {obj.partition}
    second = compact(archive.s3, BUCKET, before=AFTER)
    assert (second.compacted, second.objects_deleted) == (0, 0)
    assert list_objects(archive.s3, BUCKET) == after


def test_open_hours_are_left_alone(archive: Archive) -> None:
    latest = max(partition_of(e) for e in archive.events)
    cut = datetime.strptime(f"{latest.dt} {latest.hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)
    report = compact(archive.s3, BUCKET, before=cut)
    assert report.open_partitions >= 1
    left = [o for o in list_objects(archive.s3, BUCKET) if o.partition == latest]
    assert len(left) == 2 and not any(o.flush_id.startswith(COMPACTED) for o in left)


def test_a_dry_run_changes_nothing(archive: Archive) -> None:
    before = list_objects(archive.s3, BUCKET)
    report = compact(archive.s3, BUCKET, before=AFTER, dry_run=True)
    per_partition = Counter(o.partition for o in before)
    assert report.compacted == sum(n > 1 for n in per_partition.values()) > 0
    assert list_objects(archive.s3, BUCKET) == before


class CrashOnDelete:
    """The S3 client, crashing when compaction starts deleting (after it wrote the compacted objects)."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def __getattr__(self, name: str) -> Any:
        if name == "delete_objects":
            raise KeyboardInterrupt("crashed before deleting")
        return getattr(self._s3, name)


def test_a_crash_between_write_and_delete_loses_and_duplicates_nothing(archive: Archive) -> None:
    with pytest.raises(KeyboardInterrupt):
        compact(CrashOnDelete(archive.s3), BUCKET, before=AFTER)
    copies = _archived_ids(archive.s3)
    assert set(copies) == {e.id for e in archive.events}
    assert max(copies.values()) == 2  # in the compacted object and in its source
    [(count,)] = LocalLake(archive.s3, BUCKET).query("SELECT count(*) FROM cat_sighting_v1").rows
    assert count == sum(e.type == "cat.sighting" for e in archive.events)  # readers dedupe meanwhile
    compact(archive.s3, BUCKET, before=AFTER)
    assert _archived_ids(archive.s3) == Counter(e.id for e in archive.events)


def test_a_partition_with_an_unreadable_object_is_left_alone(archive: Archive) -> None:
    event: Envelope = archive.events[0]
    partition = partition_of(event)
    objects = sum(o.partition == partition for o in list_objects(archive.s3, BUCKET))
    archive.s3.put_object(Bucket=BUCKET, Key=object_key(partition, "torn"), Body=b"\x1f\x8b truncated")
    report = compact(archive.s3, BUCKET, before=AFTER)
    assert any("torn" in s and "left as it is" in s for s in report.skipped)
    assert len([o for o in list_objects(archive.s3, BUCKET) if o.partition == partition]) == objects + 1


def test_replay_reads_compacted_partitions_unchanged(archive: Archive) -> None:
    query = ArchiveQuery(since=NOW - timedelta(days=1), until=AFTER)
    before = replay(s3=archive.s3, bucket=BUCKET, query=query, publisher=None)
    compact(archive.s3, BUCKET, before=AFTER)
    after = replay(s3=archive.s3, bucket=BUCKET, query=query, publisher=None)
    assert before.selected == after.selected == len(archive.events)
    assert after.duplicates == 0
    assert after.types == before.types
