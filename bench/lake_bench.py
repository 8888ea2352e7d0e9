"""The lake's named queries over an archive of the demo's events, before and after compaction: one JSON
line each.

Run: ``.venv/bin/python bench/lake_bench.py [--events 800] [--per-flush 50]``. The archive is written as
the archiver writes it (one object per partition per flush of ``--per-flush`` events) into moto's
in-process S3, so the numbers are the lake's own cost (listing, fetching, typing, loading, DuckDB) plus
moto's per-request overhead, without an emulator or services. The demo (``make demo``) prints the same
queries' timings over a real stack's archive.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws

from archiver.domain import encode, object_key, partition_events
from contracts import Envelope, new_event_id
from tributary.lake.archive import list_objects
from tributary.lake.compact import compact
from tributary.lake.local import LocalLake
from tributary.lake.named import named_queries
from tributary.producers import DOMAINS, domain_events

BUCKET = "tributary-lake-bench"


def run_queries(s3: object, label: str, events: int) -> dict[str, object]:
    lake = LocalLake(s3, BUCKET)
    timings = {}
    started = time.perf_counter()
    for query in named_queries():
        result = lake.query(query.sql)
        timings[query.name] = {"load_s": round(result.load_s, 3), "query_s": round(result.query_s, 3)}
    lake.close()
    return {
        "scenario": label,
        "events": events,
        "objects": len(list_objects(s3, BUCKET)),
        "total_s": round(time.perf_counter() - started, 3),
        "queries": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=800, help="events in the archive (all demo domains)")
    parser.add_argument("--per-flush", type=int, default=50, help="events per archiver flush")
    args = parser.parse_args()
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):  # moto, never a real stack
        os.environ.pop(name, None)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    per_domain = max(1, args.events // len(DOMAINS))
    events = [Envelope(id=new_event_id(), ingested_at=now, **e) for e in domain_events(per_domain, now=now)]
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for start in range(0, len(events), args.per_flush):
            flush = f"flush-{start:08d}"
            for partition, group in partition_events(events[start : start + args.per_flush]).items():
                s3.put_object(Bucket=BUCKET, Key=object_key(partition, flush), Body=encode(group))
        print(json.dumps(run_queries(s3, "named_queries", len(events))), flush=True)
        started = time.perf_counter()
        report = compact(s3, BUCKET, before=now + timedelta(hours=1))
        print(
            json.dumps(
                {
                    "scenario": "compact",
                    "objects_read": report.objects_read,
                    "partitions_compacted": report.compacted,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            ),
            flush=True,
        )
        print(json.dumps(run_queries(s3, "named_queries_compacted", len(events))), flush=True)


if __name__ == "__main__":
    main()
