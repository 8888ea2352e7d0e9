"""Reading the archive: which objects hold which partition, and the lines and envelopes each holds.

The one reader of the archiver's format for every tool (the local lake, compaction, conformance, replay).
The layout is the archiver's (``archiver.domain``): a key is parsed into its partition and flush id and
accepted only if the archiver's own :func:`~archiver.domain.object_key` spells it the same way, so this
module never re-states the layout and ignores foreign objects under the prefix; a listing narrowed to a
time range visits only the prefixes :func:`~archiver.domain.partition_prefix` names.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pydantic import ValidationError

from archiver.domain import PREFIX, Partition, object_key, partition_prefix
from contracts import Envelope

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SUFFIX = ".ndjson.gz"


@dataclass(frozen=True)
class ArchiveObject:
    key: str
    partition: Partition
    flush_id: str
    size: int = 0


class UnreadableObject(ValueError):
    """An archive object that is not gzip, or has a line that is not an envelope; the message says where."""


@dataclass(kw_only=True)
class ReadReport:
    """What a read skipped: lines that are not envelopes, objects that are not gzip."""

    objects: int = 0
    lines: int = 0
    bad_lines: int = 0
    bad_objects: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, problem: str) -> None:
        if len(self.problems) < 20:  # enough to act on; the counts say how many
            self.problems.append(problem)


def parse_key(key: str) -> ArchiveObject | None:
    """The partition and flush id of an archive key, or ``None`` if the archiver would not write it."""
    parts = key.split("/")
    if len(parts) != 6 or parts[0] != PREFIX or not parts[5].endswith(SUFFIX):
        return None
    values = []
    for part, name in zip(parts[1:5], ("type", "version", "dt", "hour"), strict=True):
        label, _, value = part.partition("=")
        if label != name:
            return None
        values.append(value)
    if not values[1].isdigit():
        return None
    partition = Partition(unquote(values[0]), int(values[1]), values[2], values[3])
    flush_id = unquote(parts[5].removesuffix(SUFFIX))
    if object_key(partition, flush_id) != key:
        return None
    return ArchiveObject(key, partition, flush_id)


def list_objects(s3: S3Client, bucket: str, prefix: str = f"{PREFIX}/") -> list[ArchiveObject]:
    """Every archive object in ``bucket`` under ``prefix`` (default: the whole archive), sorted by key."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            parsed = parse_key(obj["Key"])
            if parsed is not None:
                found.append(
                    ArchiveObject(parsed.key, parsed.partition, parsed.flush_id, int(obj.get("Size", 0)))
                )
    return sorted(found, key=lambda o: o.key)


def objects_between(
    s3: S3Client, bucket: str, since: datetime, until: datetime, *, wants: Callable[[str, int], bool]
) -> list[ArchiveObject]:
    """The objects of every partition whose hour overlaps ``[since, until)`` and whose type and version
    ``wants``, oldest hour first: only the prefixes of those types, versions and days are listed."""
    first_hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    found: list[ArchiveObject] = []
    for type_ in _children(s3, bucket, f"{PREFIX}/", "type"):
        for version in _children(s3, bucket, partition_prefix(type_), "version"):
            if not version.isdigit() or not wants(type_, int(version)):
                continue
            for day in _days(since, until):
                for obj in list_objects(s3, bucket, partition_prefix(type_, int(version), day)):
                    if not obj.partition.hour.isdigit():
                        continue
                    start = datetime.fromisoformat(f"{day}T{int(obj.partition.hour):02d}:00:00+00:00")
                    if first_hour <= start < until:
                        found.append(obj)
    return sorted(found, key=lambda o: (o.partition.dt, o.partition.hour, o.key))


def _children(s3: S3Client, bucket: str, prefix: str, key: str) -> list[str]:
    """The ``key=value`` values one level below ``prefix``."""
    values = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            segment = common["Prefix"][len(prefix) :].rstrip("/")
            if segment.startswith(key + "="):
                values.append(unquote(segment[len(key) + 1 :]))
    return values


def _days(since: datetime, until: datetime) -> Iterator[str]:
    day = since.astimezone(UTC).date()
    last = (until.astimezone(UTC) - timedelta(microseconds=1)).date()
    while day <= last:
        yield day.isoformat()
        day += timedelta(days=1)


def fetch(s3: S3Client, bucket: str, obj: ArchiveObject) -> bytes:
    body: bytes = s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read()
    return body


def fetch_all(
    s3: S3Client, bucket: str, objects: list[ArchiveObject], *, threads: int = 8
) -> Iterator[bytes]:
    """The bodies of ``objects``, in order, fetched ``threads`` at a time (S3 latency, not CPU, is the
    cost of many small objects)."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lake-read") as pool:
        yield from pool.map(lambda obj: fetch(s3, bucket, obj), objects)


def lines(body: bytes, key: str) -> list[tuple[int, bytes]]:
    """The non-blank lines of the object ``key``'s ``body``, each with its line number (from 1).

    Raises:
        UnreadableObject: the body is not gzip.
    """
    try:
        text = gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableObject(f"{key}: not a gzip object") from exc
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def envelopes(body: bytes, key: str) -> list[Envelope]:
    """Every envelope of the object ``key``'s ``body``, or none at all.

    Raises:
        UnreadableObject: the body is not gzip, or a line is not an envelope.
    """
    return [_envelope(key, number, line) for number, line in lines(body, key)]


def _envelope(key: str, number: int, line: bytes) -> Envelope:
    try:
        return Envelope.model_validate_json(line)
    except ValidationError as exc:
        raise UnreadableObject(f"{key} line {number}: not an envelope ({exc.error_count()} errors)") from None


def decode_envelopes(body: bytes, obj: ArchiveObject, report: ReadReport) -> Iterator[Envelope]:
    """The envelopes of ``obj``'s ``body``; a line that is not an envelope is counted and skipped."""
    report.objects += 1
    try:
        numbered = lines(body, obj.key)
    except UnreadableObject as exc:
        report.bad_objects += 1
        report.note(str(exc))
        return
    for number, line in numbered:
        report.lines += 1
        try:
            yield _envelope(obj.key, number, line)
        except UnreadableObject as exc:
            report.bad_lines += 1
            report.note(str(exc))
