"""Which store each worker writes to, as its latest trace segments name it (``S3``, ``FalkorDB``, …).

Worker segments carry one subsegment per store call (see ``docs/observability.md``); the console reads the
tail of the collected segments only, so a long-running stack's file costs no more than a recent one, and
keeps what it found (a worker's stores do not change while it runs).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

TAIL_BYTES = 2 * 1024 * 1024  # a busy worker writes a segment per message: read far enough back
NOT_STORES = frozenset({"SQS", "EventBridge"})


def store_names(traces: Path, *, tail_bytes: int = TAIL_BYTES) -> dict[str, list[str]]:
    """``{service: [store, …]}`` from the last ``tail_bytes`` of a collector file, most used first; empty
    when there is no such file."""
    try:
        with traces.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - tail_bytes))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
        if size > tail_bytes:
            lines = lines[1:]  # the first line is cut
    except OSError:
        return {}
    seen: dict[str, Counter[str]] = {}
    for line in lines:
        try:
            segment = json.loads(line)
        except ValueError:
            continue
        if not isinstance(segment, dict) or "name" not in segment:
            continue
        for sub in segment.get("subsegments", []):
            name = str(sub.get("name", "")) if isinstance(sub, dict) else ""
            if name and name not in NOT_STORES and not name.startswith("webhook:"):
                seen.setdefault(str(segment["name"]), Counter())[name] += 1
    return {service: [n for n, _ in counts.most_common()] for service, counts in seen.items()}
