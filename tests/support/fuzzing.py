"""Fuzzing an HTTP API in process: hypothesis draws requests, every answer must be below 500.

Each service's fuzz test sends its drawn requests through FastAPI's ``TestClient`` (over in-memory fakes)
and collects the status codes, so the test can assert the run was not vacuous and print how many cases ran.
Server exceptions are turned into 500 answers, not raised, so an exception is a failing example like any
other 5xx, shrunk by hypothesis to the smallest request that causes it.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEXT = st.text(st.characters(exclude_categories=()), max_size=16)
"""Any text, lone surrogates and control characters included."""

NASTY = st.sampled_from(
    [
        "", " ", "\x00", "a\x00b", "\ud800", "%00", "%ff", "..", "../..", "null", "true", "-1", "0", "1e999",
        "9" * 5000, "NaN", "-Infinity", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2025-06-01T09:30:00", "2025-13-45T99:99:99Z",
        "1748737800", "é" * 300, "\U0001d518" * 40, "'; DROP TABLE x; --", "MATCH (n) DETACH DELETE n",
    ]
)  # fmt: skip
"""Values that have broken parsers, converters and stores before."""

PARAM_VALUE = NASTY | TEXT | st.integers().map(str) | st.text(string.printable, max_size=40)


def run_fuzz(
    send: Callable[[Any], httpx.Response], strategy: st.SearchStrategy[Any], *, examples: int
) -> Counter[int]:
    """Send ``examples`` requests drawn from ``strategy`` with ``send``; fail on any 5xx.

    Returns:
        How many answers had each status code.
    """
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(request=strategy)
    def fuzz(request: Any) -> None:
        response = send(request)
        statuses[response.status_code] += 1
        assert response.status_code < 500, f"{request!r:.300} -> {response.status_code} {response.text[:300]}"

    fuzz()
    return statuses


def _raw(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")  # a lone surrogate goes out as the bytes no decoder takes


def url(*segments: str, params: Sequence[tuple[str, str]] = ()) -> str:
    """A request target: each segment percent-encoded whole (``/`` included), then the query string."""
    path = "/" + "/".join(quote(_raw(s), safe="") for s in segments)
    return path + ("?" + urlencode([(_raw(k), _raw(v)) for k, v in params]) if params else "")


def query(names: st.SearchStrategy[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Query parameters: known and unknown names (some repeated), each with any value."""
    return st.lists(st.tuples(names | TEXT, values), max_size=6)
