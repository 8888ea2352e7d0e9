"""Peek reads without consuming; purge removes by message and says what it removed."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from contracts import Envelope
from tributary.operators.dlq import purge
from tributary.operators.letters import Selector
from tributary.operators.scan import Held, peek, receive
from tributary.operators.target import QueuePair


def test_peek_shows_letters_and_consumes_nothing(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """Five of twelve, with ids and reasons; afterwards all twelve are visible again at once."""
    events = fill(["slowdown"] * 12)
    letters = peek(sqs, pair.dlq_url, count=5)
    assert len(letters) == 5
    assert {le.event_id for le in letters} <= {e.id for e in events}
    assert all(le.reason["error_type"] == "RetryableError" and le.reason["attempts"] == "5" for le in letters)
    assert counts(pair.dlq_url) == (12, 0)


def test_peek_of_more_than_there_is_returns_each_letter_once(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """Asking for 50 of 3 gives the 3, once each."""
    events = fill(["timeout"] * 3)
    letters = peek(sqs, pair.dlq_url, count=50, wait_s=0)
    assert sorted(le.event_id or "" for le in letters) == sorted(e.id for e in events)
    assert counts(pair.dlq_url) == (3, 0)


def test_held_letters_are_released_together(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]]
) -> None:
    """A holder keeps the latest handle per message and releases all with visibility 0."""
    fill(["timeout"] * 4)
    held = Held(sqs, pair.dlq_url)
    held.hold(receive(sqs, pair.dlq_url, max_messages=10, visibility_s=300, wait_s=0))
    assert len(held) == 4
    assert receive(sqs, pair.dlq_url, max_messages=10, visibility_s=300, wait_s=0) == []
    assert held.release_all() == (4, 0)
    assert len(receive(sqs, pair.dlq_url, max_messages=10, visibility_s=300, wait_s=0)) == 4


def test_purge_removes_what_the_selector_takes_and_saves_it_first(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """Purging the permanent failures: they are gone, saved as NDJSON; the others stay."""
    events = fill(["contract", "slowdown", "timeout"] * 4)
    saved = io.StringIO()
    report = purge(sqs=sqs, dlq_url=pair.dlq_url, selector=Selector.parse(["reason=permanent"]), save=saved)
    assert report.removed == 4
    assert report.kinds == Counter({"sensor.reading.v1 · ContractError": 4})
    lines = [json.loads(line) for line in saved.getvalue().splitlines()]
    assert len(lines) == 4 and {line["reason"]["reason"] for line in lines} == {"permanent"}
    assert {line["event_id"] for line in lines} <= {e.id for e in events}
    assert counts(pair.dlq_url) == (8, 0)


def test_purge_of_everything_empties_the_dlq(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """No selector: every letter."""
    fill(["contract"] * 15)
    sqs.send_message(QueueUrl=pair.dlq_url, MessageBody="junk")
    assert purge(sqs=sqs, dlq_url=pair.dlq_url).removed == 16
    assert counts(pair.dlq_url) == (0, 0)
