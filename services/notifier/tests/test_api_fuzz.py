"""Fuzzing the notifier's read API over each state store: no query a client sends gets a 5xx."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from hypothesis import strategies as st

from notifier.api import build_api
from notifier.manifest import MANIFEST
from notifier.model import Alert
from notifier.ports import NotificationStateStore
from notifier.rules.loader import parse_rules
from tests.support.fuzzing import NASTY, PARAM_VALUE, TEXT, query, run_fuzz, url

NOW = 1_750_000_000.0
RULES = parse_rules(
    "defaults: {channels: [log]}\nrules:\n  - {name: cats, match: {type: cat.sighting}, message: m}\n",
    source="rules.yaml",
    subscriptions=MANIFEST.consumes,
)
_PARAMS = query(st.sampled_from(["limit"]), PARAM_VALUE | st.integers(-5, 2000).map(str))
_REQUESTS = (
    st.builds(lambda params: url("v1", "alerts", params=params), _PARAMS)
    | st.builds(lambda params: url("v1", "rules", params=params), _PARAMS)
    | st.builds(lambda path: url("v1", *path), st.lists(NASTY | TEXT, max_size=3))
)


def test_no_request_gets_a_server_error(state: NotificationStateStore) -> None:
    """Any limit (negative, huge, not a number, repeated), unknown parameters and paths: 200, 404 or 422."""
    for i, message in enumerate(["plain", "三毛 — ☆", 'quote " and \\ backslash']):
        alert = Alert(
            rule="cats",
            key=f"e-{i}",
            subject="c",
            severity="info",
            message=message,
            channels=("log",),
            cooldown_s=0,
        )
        state.claim(alert, now=NOW + i, lease_s=60)
    client = TestClient(build_api(store=state, rules=RULES, clock=lambda: NOW), raise_server_exceptions=False)

    def send(target: str) -> httpx.Response:
        return client.get(target)

    statuses = run_fuzz(send, _REQUESTS, examples=300)
    assert set(statuses) <= {200, 404, 422}
    assert statuses[200] and statuses[404] and statuses[422], statuses
    print(
        f"\nnotifier API fuzz ({type(state).__name__}): {statuses.total()} requests, 0 server errors, "
        f"statuses {dict(sorted(statuses.items()))}"
    )
