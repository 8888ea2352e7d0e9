"""Tests of node ids: label prefixes, and the encoding that keeps them injective and index-safe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.fields import ENTITY_ID_PATTERN
from graph_writer.model import LABELS, MAX_ID_LENGTH, GraphCounts, InvalidNodeId, label_of, node_id


@pytest.mark.parametrize("prefix", sorted(LABELS))
def test_ids_name_their_label(prefix: str) -> None:
    """``<prefix>:<key>`` and the label it names, for every prefix."""
    assert node_id(prefix, "k-1") == f"{prefix}:k-1"
    assert label_of(f"{prefix}:k-1") == LABELS[prefix]


@given(st.from_regex(ENTITY_ID_PATTERN, fullmatch=True))
def test_contract_ids_are_used_as_they_are(key: str) -> None:
    """Every id a contract allows is its own key, unencoded."""
    assert node_id("device", key) == f"device:{key}"


@given(st.text(min_size=1, max_size=50), st.text(min_size=1, max_size=50))
def test_distinct_keys_make_distinct_ascii_ids(a: str, b: str) -> None:
    """The encoding is injective and leaves no whitespace or control characters for an index to trim."""
    try:
        ia, ib = node_id("player", a), node_id("player", b)
    except UnicodeEncodeError:  # an unpaired surrogate is no text a contract lets through
        return
    assert (ia == ib) == (a == b)
    assert ia.isascii() and ia.isprintable() and " " not in ia


@pytest.mark.parametrize("bad", ["dev-1", "robot:1", "device:", ":x", "", "Device:x"])
def test_ids_without_a_known_prefix_and_a_key_are_invalid(bad: str) -> None:
    """The error lists the known prefixes."""
    with pytest.raises(InvalidNodeId, match="device:, site:"):
        label_of(bad)


def test_empty_overlong_and_unknown_keys_cannot_make_an_id() -> None:
    """Empty keys, ids over the limit and unknown prefixes are refused."""
    for prefix, key in [("device", ""), ("device", "x" * MAX_ID_LENGTH), ("robot", "x")]:
        with pytest.raises(InvalidNodeId):
            node_id(prefix, key)


def test_counts_add_up() -> None:
    """Totals are the sums over labels and types."""
    counts = GraphCounts(nodes={"Device": 2, "Site": 1}, relationships={"LOCATED_AT": 2})
    assert (counts.total_nodes, counts.total_relationships) == (3, 2)
