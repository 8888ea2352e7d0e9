"""Tests of dotted field paths and message templates."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.rules.paths import MISSING, FieldPath, PathError, Template

DOC: dict[str, Any] = {
    "id": "e-1",
    "version": 1,
    "data": {
        "value": 81.5,
        "whole": 80.0,
        "ok": True,
        "none": None,
        "site": {"id": "S1"},
        "movements": [{"team": "LAL", "to": "DAL"}, {"team": "BOS", "to": "LAL"}],
        "empty": [],
    },
}


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("id", ["e-1"]),
        ("data.value", [81.5]),
        ("data.site.id", ["S1"]),
        ("data.movements[*].team", ["LAL", "BOS"]),
        ("data.movements[1].to", ["LAL"]),
        ("data.movements[5].to", []),
        ("data.movements[*]", [{"team": "LAL", "to": "DAL"}, {"team": "BOS", "to": "LAL"}]),
        ("data.empty[*].x", []),
        ("data.missing", []),
        ("data.value.deeper", []),
        ("data.site[*]", []),
        ("data.none", [None]),
    ],
)
def test_a_path_yields_every_value_it_reaches(path: str, values: list[Any]) -> None:
    """Keys, ``[*]`` over every element, ``[n]`` for one; nothing for a path that does not exist."""
    assert FieldPath.parse(path).values(DOC) == values


@pytest.mark.parametrize(
    "text", ["", "data..value", "data.", ".data", "data.value[]", "data[x]", "data.va lue", "1data", "a[-1]"]
)
def test_malformed_paths_are_refused(text: str) -> None:
    """Only ``name``, ``name[*]`` and ``name[n]`` segments joined by dots."""
    with pytest.raises(PathError):
        FieldPath.parse(text)


def test_fan_out_is_known_from_the_path() -> None:
    """A path with ``[*]`` may reach several values; one without reaches at most one."""
    assert FieldPath.parse("data.movements[*].team").fans_out
    assert not FieldPath.parse("data.movements[0].team").fans_out


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("{data.value} at {data.site.id}", "81.5 at S1"),
        ("{data.whole}", "80"),
        ("{data.ok}", "true"),
        ("{data.none}|{data.missing}", f"{MISSING}|{MISSING}"),
        ("teams: {data.movements[*].team}", "teams: LAL, BOS"),
        ("{ data.value }", "81.5"),
        ("{{literal}} {{{id}}}", "{literal} {e-1}"),
        ("{data.site}", "{…}"),
        ("{data.movements}", "[2 items]"),
        ("no placeholders", "no placeholders"),
    ],
)
def test_templates_render_event_fields(template: str, text: str) -> None:
    """Placeholders become the values their path reaches; ``{{``/``}}`` are literal braces."""
    assert Template.parse(template).render(DOC) == text


@pytest.mark.parametrize(
    "template",
    ["{data.value", "data.value}", "{0.__class__}", "{id!r}", "{data.value:>10}", "{id.__dict__}", "{}"],
)
def test_templates_evaluate_nothing_but_paths(template: str) -> None:
    """Format specs, conversions, attribute access and unbalanced braces are refused at parse time."""
    with pytest.raises(PathError):
        Template.parse(template)


def test_a_template_lists_its_paths() -> None:
    """The loader checks each placeholder's path against the contract."""
    assert [str(p) for p in Template.parse("{id}: {data.value} {{x}}").paths] == ["id", "data.value"]


def test_paths_look_up_keys_never_attributes() -> None:
    """A path only indexes mappings and lists: on text or numbers it reaches nothing."""
    doc = {"id": "e-1", "n": 3}
    assert FieldPath.parse("id.upper").values(doc) == []
    assert FieldPath.parse("n.real").values(doc) == []
    assert Template.parse("{id.upper}").render(doc) == MISSING
