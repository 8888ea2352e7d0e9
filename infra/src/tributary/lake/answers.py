"""The seed questions answered from the lake, as ``tributary lake query --named`` prints them (the demo
shows these)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from tributary.lake.cli import print_result
from tributary.lake.local import LocalLake
from tributary.lake.named import named_queries


def print_lake_answers(console: Console, s3: Any, bucket: str, *, limit: int = 8) -> dict[str, float]:
    """Run every named query on a fresh local lake over ``bucket`` and print the first ``limit`` rows of
    each; returns the seconds each took (reading the archive included)."""
    lake = LocalLake(s3, bucket)
    timings: dict[str, float] = {}
    try:
        for query in named_queries():
            started = time.perf_counter()
            result = lake.query(query.sql)
            timings[query.name] = time.perf_counter() - started
            print_result(
                result, title=f"lake: {query.title} (--named {query.name})", limit=limit, out=console
            )
    finally:
        lake.close()
    console.print(f"lake: {len(timings)} named queries in {sum(timings.values()):.2f}s")
    return timings
