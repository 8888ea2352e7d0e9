"""Tests of event id generation."""

from __future__ import annotations

import re

from contracts.ids import EVENT_ID_PATTERN, new_event_id


def test_ids_are_26_crockford_characters() -> None:
    """An id is 26 characters of Crockford base32 and a valid event id."""
    event_id = new_event_id()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", event_id)
    assert re.fullmatch(EVENT_ID_PATTERN, event_id)


def test_ids_sort_by_creation_time() -> None:
    """Ids made at later milliseconds sort after earlier ones, whatever their random part."""
    times = [1_700_000_000_000 + step for step in (0, 1, 2, 1000, 86_400_000)]
    ids = [new_event_id(ms) for ms in times]
    assert sorted(ids) == ids


def test_ids_made_in_the_same_millisecond_differ() -> None:
    """The random part keeps ids unique within one millisecond."""
    ids = {new_event_id(1_700_000_000_000) for _ in range(1000)}
    assert len(ids) == 1000
