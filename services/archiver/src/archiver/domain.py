"""Pure archive logic: which object an event belongs in, and what that object holds.

Layout (Hive-style, so Glue/Athena partition projection reads it)::

    events/type=<type>/version=<v>/dt=<YYYY-MM-DD>/hour=<HH>/<flush id>.ndjson.gz

partitioned by the event's own ``time`` in UTC. Every path segment is percent-encoded beyond
``[A-Za-z0-9._-]``, so no producer-chosen value can add a segment or climb out of the prefix.

Each line is an envelope whose ``data`` satisfies its contract strictly (:func:`data_problem`), so every
archived line validates against its version's published JSON Schema, which Athena and Glue readers rely on,
even for an event that reached the bus without ingest or the SDK.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import NamedTuple
from urllib.parse import quote

from pydantic import ValidationError

from contracts import Envelope, UnknownContractError, validate_data
from shared.idempotency import canonical_digest

PREFIX = "events"


class Partition(NamedTuple):
    type: str
    version: int
    dt: str
    hour: str


def data_problem(event: Envelope) -> str | None:
    """Why ``event``'s data may not be archived (no contract, or it breaks it), naming each field; or None.

    Messages name fields and rules, never values: they end up in DLQ attributes.
    """
    try:
        validate_data(event.type, event.version, event.data)
    except UnknownContractError as exc:
        return str(exc)
    except ValidationError as exc:
        fields = "; ".join(
            f"data.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else f"data: {e['msg']}"
            for e in exc.errors()[:10]
        )
        return f"{event.detail_type} data breaks its contract: {fields}"
    return None


def partition_of(event: Envelope) -> Partition:
    at = event.time.astimezone(UTC)
    return Partition(event.type, event.version, at.strftime("%Y-%m-%d"), at.strftime("%H"))


def partition_events(events: Iterable[Envelope]) -> dict[Partition, list[Envelope]]:
    """Events grouped by partition, in arrival order within each."""
    groups: dict[Partition, list[Envelope]] = defaultdict(list)
    for event in events:
        groups[partition_of(event)].append(event)
    return dict(groups)


def _segment(value: str) -> str:
    return quote(value, safe="._-")


def object_key(partition: Partition, flush_id: str) -> str:
    """The object key of one flush's events of one partition."""
    return "/".join(
        [
            PREFIX,
            f"type={_segment(partition.type)}",
            f"version={partition.version}",
            f"dt={partition.dt}",
            f"hour={partition.hour}",
            f"{_segment(flush_id)}.ndjson.gz",
        ]
    )


def content_digest(event: Envelope) -> str:
    """The digest the ledger keeps per id: what the producer sent (``ingested_at`` and ``trace`` are the
    platform's stamps, which differ between two sends of the same event, so they are left out)."""
    return canonical_digest(event.model_dump(mode="json", exclude={"ingested_at", "trace"}))


def encode(events: Sequence[Envelope]) -> bytes:
    """gzip NDJSON: one envelope (exactly the bus's ``Detail``) per line."""
    lines = "".join(event.model_dump_json() + "\n" for event in events)
    return gzip.compress(lines.encode(), compresslevel=6)


def decode(body: bytes) -> list[Envelope]:
    """The envelopes of an archive object."""
    return [Envelope.model_validate_json(line) for line in gzip.decompress(body).splitlines() if line]
