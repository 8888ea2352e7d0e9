"""Tests of the typed rules: durations and how conditions compare values."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.rules.paths import FieldPath
from notifier.rules.ruleset import AnyOf, Condition, Op, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (0, 0.0),
        (90, 90.0),
        (1.5, 1.5),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("2h", 7200.0),
        ("1h 5m 3s", 3903.0),
        ("0.5s", 0.5),
        ("0s", 0.0),
    ],
)
def test_durations(text: Any, seconds: float) -> None:
    """Seconds as a number, or text in h/m/s."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "10 minutes", "5d", "m", -1, True, None, "1m1h"])
def test_bad_durations(text: Any) -> None:
    """Anything else, negative numbers and booleans are refused."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


DOC: dict[str, Any] = {
    "data": {
        "value": 80,
        "ratio": 0.5,
        "site": "S1",
        "flag": False,
        "none": None,
        "teams": ["LAL", "DAL"],
        "text_number": "81",
    }
}


def _holds(path: str, op: Op, value: Any) -> bool:
    return Condition(FieldPath.parse(path), op, value).holds(DOC)


@pytest.mark.parametrize(
    ("path", "op", "value", "expected"),
    [
        ("data.value", "gt", 79.9, True),
        ("data.value", "gt", 80, False),
        ("data.value", "ge", 80, True),
        ("data.value", "lt", 80.5, True),
        ("data.value", "le", 79, False),
        ("data.value", "eq", 80.0, True),
        ("data.value", "eq", "80", False),
        ("data.text_number", "gt", 80, False),
        ("data.site", "eq", "S1", True),
        ("data.site", "ne", "S1", False),
        ("data.site", "ne", "S2", True),
        ("data.site", "in", ("S1", "S2"), True),
        ("data.site", "in", ("S3",), False),
        ("data.flag", "eq", False, True),
        ("data.flag", "eq", 0, False),
        ("data.value", "eq", True, False),
        ("data.none", "eq", None, True),
        ("data.teams[*]", "eq", "DAL", True),
        ("data.teams[*]", "eq", "BOS", False),
        ("data.teams[*]", "ne", "LAL", True),
        ("data.missing", "ne", "x", False),
        ("data.missing", "gt", 0, False),
        ("data.site", "exists", True, True),
        ("data.missing", "exists", True, False),
        ("data.missing", "exists", False, True),
        ("data.none", "exists", True, False),
        ("data.none", "exists", False, True),
    ],
)
def test_condition_table(path: str, op: Op, value: Any, expected: bool) -> None:
    """Numbers compare as numbers (80 == 80.0), text and booleans only with their own type; ``[*]`` is any."""
    assert _holds(path, op, value) is expected


def test_any_of_holds_when_one_condition_does() -> None:
    """``any:`` is an or over its conditions, nested as deep as written."""
    lal_from = Condition(FieldPath.parse("data.site"), "eq", "S9")
    lal_to = Condition(FieldPath.parse("data.teams[*]"), "eq", "LAL")
    assert AnyOf((lal_from, lal_to)).holds(DOC)
    assert not AnyOf((lal_from,)).holds(DOC)
    assert AnyOf((AnyOf((lal_from,)), AnyOf((lal_to,)))).holds(DOC)
