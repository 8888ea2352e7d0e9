"""How many messages a running service has settled for good, read from its ``/metrics``.

A stack test that must show that *nothing more* happens after an event (no second alert, no extra
delivery) waits until the service has settled that event's message (stored or dead-lettered: it is gone
from the queue) instead of sleeping for a while and hoping the service was done.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

FINAL_OUTCOMES = ("stored", "dead_lettered")
_SAMPLE = re.compile(r"^tributary_messages_total\{(?P<labels>[^}]*)\}\s+(?P<value>[0-9.e+]+)$", re.MULTILINE)


def settled(description: dict[str, Any], service: str) -> int:
    """Messages ``service`` has stored or dead-lettered since it started, summed over its processes."""
    urls = description["services"][service].get("urls") or [description["services"][service]["url"]]
    total = 0.0
    for url in urls:
        text = httpx.get(f"{url}/metrics", timeout=10).text
        for sample in _SAMPLE.finditer(text):
            if any(f'outcome="{o}"' in sample["labels"] for o in FINAL_OUTCOMES):
                total += float(sample["value"])
    return int(total)
