"""``sensor.reading`` twins: the same readings as a v1 producer and as a v2 producer publish them.

A v1 reading upcast to v2 must be stored exactly as the v2 reading it becomes; tests feed both twins to the
same writers and compare what they stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contracts import new_event_id

UNITS = ("celsius", "hectopascal", "percent", "ppm")

Event = dict[str, Any]


def reading_twins(
    count: int,
    *,
    start: datetime,
    devices: int = 3,
    prefixes: tuple[str, str] = ("dev", "dev"),
    same_ids: bool = True,
    site: str = "site-1",
) -> list[tuple[Event, Event]]:
    """``count`` readings as (v1 event, v2 event) pairs in the producer's shape (``EventIn``).

    Twins share time, metric and quantity. With ``same_ids`` they share the id too (for separate stores);
    one stack needs ``same_ids=False`` and distinct device ``prefixes`` (v1's, v2's) to keep them apart.
    """
    twins = []
    for i in range(count):
        unit = UNITS[i % len(UNITS)]
        value = round(10 + (i * 37 % 200) / 10, 1)
        head = {
            "type": "sensor.reading",
            "source": "tests.twins",
            "time": (start + timedelta(seconds=i)).isoformat(),
        }
        v1_id = new_event_id()
        common = {"site_id": site, "metric": f"m_{unit}"}
        v1 = head | {"id": v1_id, "version": 1}
        v2 = head | {"id": v1_id if same_ids else new_event_id(), "version": 2}
        v1["data"] = common | {"device_id": f"{prefixes[0]}-{i % devices}", "value": value, "unit": unit}
        v2["data"] = common | {
            "device_id": f"{prefixes[1]}-{i % devices}",
            "quantity": {"value": value, "unit": unit},
            "quality": "good",
        }
        twins.append((v1, v2))
    return twins
