"""Reading the archive: which objects hold which partition, and the envelopes each holds.

The layout is the archiver's (``archiver.domain``): a key is parsed into its partition and flush id and
accepted only if the archiver's own :func:`~archiver.domain.object_key` spells it the same way, so this
module never re-states the layout and ignores foreign objects under the prefix.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from archiver.domain import PREFIX, Partition, object_key
from contracts import Envelope

SUFFIX = ".ndjson.gz"


@dataclass(frozen=True)
class ArchiveObject:
    key: str
    partition: Partition
    flush_id: str
    size: int = 0


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


def list_objects(s3: Any, bucket: str) -> list[ArchiveObject]:
    """Every archive object in ``bucket``, sorted by key."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{PREFIX}/"):
        for obj in page.get("Contents", []):
            parsed = parse_key(obj["Key"])
            if parsed is not None:
                found.append(
                    ArchiveObject(parsed.key, parsed.partition, parsed.flush_id, int(obj.get("Size", 0)))
                )
    return sorted(found, key=lambda o: o.key)


def fetch(s3: Any, bucket: str, obj: ArchiveObject) -> bytes:
    body: bytes = s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read()
    return body


def fetch_all(s3: Any, bucket: str, objects: list[ArchiveObject], *, threads: int = 8) -> Iterator[bytes]:
    """The bodies of ``objects``, in order, fetched ``threads`` at a time (S3 latency, not CPU, is the
    cost of many small objects)."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lake-read") as pool:
        yield from pool.map(lambda obj: fetch(s3, bucket, obj), objects)


def decode_envelopes(body: bytes, obj: ArchiveObject, report: ReadReport) -> Iterator[Envelope]:
    """The envelopes of ``obj``'s ``body``; a line that is not an envelope is counted and skipped."""
    report.objects += 1
    try:
        text = gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        report.bad_objects += 1
        report.note(f"{obj.key}: not a gzip object")
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        report.lines += 1
        try:
            yield Envelope.model_validate_json(line)
        except ValidationError as exc:
            report.bad_lines += 1
            report.note(f"{obj.key} line {number}: not an envelope ({exc.error_count()} errors)")
