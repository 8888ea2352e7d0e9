"""What the demo asks the stores once the events are in: graph, series and alert answers per seed domain.

Each section asks the owning service's read API (``graph_url``, ``series_url``, ``notifier_url`` in the stack
description), so the answers come from the stores the workers wrote, not from the demo's own bookkeeping.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

SERIES = [
    ("seed 000 IoT: temperature, hourly average", {"metric": "temperature", "bucket": "1h", "agg": "avg"}),
    ("seed 001 cats: sightings, daily count", {"metric": "cat.sightings", "bucket": "1d", "agg": "sum"}),
    (
        "seed 002 shop: sales of shop-01, daily sum",
        {"metric": "order.amount", "bucket": "1d", "agg": "sum", "shop": "shop-01"},
    ),
]


def print_answers(console: Console, description: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Print one section per store whose service runs in the stack."""
    with httpx.Client(timeout=30) as http:
        if "graph_url" in description:
            _graph(console, http, description["graph_url"], events)
        if "series_url" in description:
            _series(console, http, description["series_url"])
        if "notifier_url" in description:
            _alerts(console, http, description["notifier_url"])


def _graph(console: Console, http: httpx.Client, url: str, events: list[dict[str, Any]]) -> None:
    stats = http.get(f"{url}/graph/stats").json()
    console.print(
        f"graph: {stats['total_nodes']} nodes, {stats['total_relationships']} relationships "
        f"{dict(stats['relationships'])}"
    )
    site = next(e["data"]["site_id"] for e in events if e["type"] == "device.registered")
    devices = http.get(f"{url}/graph/nodes/site:{site}/neighbors", params={"rel": "LOCATED_AT"}).json()
    console.print(f"  devices at {site}: {', '.join(n['id'] for n in devices['neighbors'])}")
    trade = next(e for e in events if e["type"] == "trade.completed")
    player = trade["data"]["movements"][0]["player_id"]
    node = http.get(f"{url}/graph/nodes/player:{player}").json()
    joined = http.get(f"{url}/graph/nodes/player:{player}/neighbors", params={"rel": "TRADED_TO"}).json()
    left = http.get(f"{url}/graph/nodes/player:{player}/neighbors", params={"rel": "LEFT"}).json()
    console.print(
        f"  trade path of {node['properties'].get('name', player)}: left "
        f"{', '.join(n['id'] for n in left['neighbors']) or '-'}; traded to "
        f"{', '.join(n['id'] for n in joined['neighbors']) or '-'}; now {node['properties'].get('team')}"
    )


def _series(console: Console, http: httpx.Client, url: str) -> None:
    for title, params in SERIES:
        answer = http.get(f"{url}/series", params=params).json()
        table = Table(title=f"series: {title} ({', '.join(answer['units'])})")
        table.add_column("bucket")
        table.add_column("value", justify="right")
        table.add_column("points", justify="right")
        for bucket in answer["buckets"][-6:]:
            table.add_row(bucket["start"], f"{bucket['value']:.2f}", str(bucket["count"]))
        console.print(table)


def _alerts(console: Console, http: httpx.Client, url: str) -> None:
    alerts = http.get(f"{url}/v1/alerts", params={"limit": 1000}).json()["alerts"]
    by_rule = Counter((a["rule"], a["status"]) for a in alerts)
    table = Table(title=f"alerts raised by the notifier ({len(alerts)})")
    for col in ("rule", "status", "alerts", "example"):
        table.add_column(col, justify="right" if col == "alerts" else "left")
    for (rule, status), n in sorted(by_rule.items()):
        example = next(a["message"] for a in alerts if a["rule"] == rule and a["status"] == status)
        table.add_row(rule, status, str(n), example[:70])
    console.print(table)
