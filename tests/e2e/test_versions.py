"""Two versions of one contract on the running stack: a v1 producer and a v2 producer of ``sensor.reading``.

Both publish the same readings through ingest (devices ``v1-…`` and ``v2-…``); the rules route both detail
types, the runtime upcasts v1 before the writers' handlers, and every series and device node of one side
equals its twin on the other.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from graph_writer.model import node_id
from shared.testkit.readings import UNITS, reading_twins
from shared.testkit.waiting import wait_for
from tests.e2e.test_graph import graph_url, node
from tests.e2e.test_series import series_url
from tributary.client import StackClient

pytestmark = pytest.mark.e2e

DEVICES = 3


def _series(url: str, *, metric: str, device: str, now: datetime) -> list[dict[str, Any]]:
    params = {
        "metric": metric,
        "device": device,
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
        "bucket": "1m",
        "agg": "sum",
    }
    response = httpx.get(f"{url}/series", params=params, timeout=30)
    response.raise_for_status()
    buckets: list[dict[str, Any]] = response.json()["buckets"]
    return buckets


def test_v1_and_v2_producers_store_identical_results(stack: StackClient) -> None:
    """Both versions are accepted, routed and stored; each v1 device's series and node equal its v2 twin's."""
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC).replace(microsecond=0)
    prefixes = (f"v1-{run}", f"v2-{run}")
    twins = reading_twins(
        48, start=now - timedelta(minutes=10), devices=DEVICES, prefixes=prefixes, same_ids=False, site=run
    )
    published = stack.publish([event for pair in twins for event in pair])
    assert len(published.accepted) == 96, published.rejected

    s_url, g_url = series_url(stack.description), graph_url(stack.description)
    pairs = [(f"{prefixes[0]}-{d}", f"{prefixes[1]}-{d}") for d in range(DEVICES)]

    def counted(device: str) -> int:
        return sum(b["count"] for m in UNITS for b in _series(s_url, metric=f"m_{m}", device=device, now=now))

    def stored() -> bool:
        return all(counted(d) == 16 for pair in pairs for d in pair) and all(
            node(g_url, node_id("device", d)) for pair in pairs for d in pair
        )

    assert wait_for(stored, timeout_s=60, interval_s=0.3)
    for v1_device, v2_device in pairs:
        for unit in UNITS:
            metric = f"m_{unit}"
            v1_buckets = _series(s_url, metric=metric, device=v1_device, now=now)
            v2_buckets = _series(s_url, metric=metric, device=v2_device, now=now)
            # the same readings, summed in whatever order the store scans them: equal up to rounding
            assert [b | {"value": pytest.approx(b["value"])} for b in v2_buckets] == v1_buckets
        v1_node, v2_node = (
            node(g_url, node_id("device", v1_device)),
            node(g_url, node_id("device", v2_device)),
        )
        assert v1_node and v2_node
        assert v1_node["properties"]["last_seen"] == v2_node["properties"]["last_seen"]
