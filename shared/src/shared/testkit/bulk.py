"""Many events at once, in the producer's shape (``EventIn``), with ids the caller can find again.

For stack tests and benchmarks that publish hundreds or thousands of events and then count what each store
holds: every id starts with the caller's ``prefix``, so a count can tell its events from anyone else's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

Event = dict[str, Any]


def readings(count: int, *, prefix: str, source: str, site: str, now: datetime) -> list[Event]:
    """``count`` temperature readings, 20 devices at ``site``, spread over the two hours before ``now``."""
    return [
        {
            "id": f"{prefix}-{i:06d}",
            "type": "sensor.reading",
            "version": 1,
            "source": source,
            "time": (now - timedelta(seconds=(i * 7919) % 7200, milliseconds=i % 1000)).isoformat(),
            "data": {
                "device_id": f"dev-{i % 20:02d}",
                "site_id": site,
                "metric": "temperature",
                "value": round(15 + (i * 37 % 200) / 10, 1),
                "unit": "celsius",
            },
        }
        for i in range(count)
    ]


TRADE_EDGES = 4
"""Relationships one of :func:`trades`' events makes in the graph: two players, each ``LEFT`` a team and
``TRADED_TO`` another."""


def trades(count: int, *, prefix: str, source: str) -> list[Event]:
    """``count`` trades, one a second back from now, each moving two players no other trade moves."""
    now = datetime.now(UTC)
    return [
        {
            "id": f"{prefix}-{i:05d}",
            "type": "trade.completed",
            "version": 1,
            "source": source,
            "time": (now - timedelta(seconds=i)).isoformat(),
            "data": {
                "trade_id": f"trd-{prefix}-{i}",
                "season": "2025-26",
                "movements": [
                    {
                        "player_id": f"{prefix}-p{i}-{n}",
                        "player_name": "P",
                        "from_team": "BOS",
                        "to_team": "NYK",
                    }
                    for n in range(2)
                ],
            },
        }
        for i in range(count)
    ]
