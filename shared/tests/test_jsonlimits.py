"""Tests of the bounded JSON parser: what it accepts, and each limit it enforces without echoing input."""

from __future__ import annotations

import json

import pytest

from shared.jsonlimits import JsonLimitError, JsonLimits, loads

LIMITS = JsonLimits(max_depth=5, max_keys=10, max_number_digits=20)


def test_documents_within_the_limits_parse_as_json_does() -> None:
    """A normal document parses to what json.loads gives."""
    text = json.dumps({"events": [{"a": 1, "b": [1.5, "x", None, True]}]})
    assert loads(text, LIMITS) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 6 + "]" * 6, "deeper than 5"),
        ("[" * 100_000 + "]" * 100_000, "deeper than 5"),
        (json.dumps({f"k{i}": i for i in range(11)}), "11 keys; the limit is 10"),
        ("1" * 21, "21 characters; the limit is 20"),
        ("1e999", "out of the range"),
        ("NaN", "NaN is not valid JSON"),
        ('{"a": CANARY}', "not valid JSON"),
        (b'"\xff"', "not valid UTF-8"),
    ],
)
def test_documents_over_a_limit_are_refused_with_the_limit_named(text: str | bytes, says: str) -> None:
    """Each limit gives a JsonLimitError naming it; the message never repeats the input."""
    with pytest.raises(JsonLimitError, match=says) as caught:
        loads(text, LIMITS)
    assert "CANARY" not in str(caught.value)


def test_a_million_keys_are_refused() -> None:
    """The attack from issue 17: one object with a million keys."""
    text = "{" + ",".join(f'"k{i}":0' for i in range(1_000_000)) + "}"
    with pytest.raises(JsonLimitError, match="1000000 keys"):
        loads(text)
