"""What the demo prints last: where to look once its stack has stopped."""

from __future__ import annotations

from tributary.demo import where_to_look


def test_the_demo_ends_by_saying_where_to_look() -> None:
    """The command that brings up a stack that stays, and where its console address will be."""
    text = " ".join(where_to_look())
    assert "make up" in text and "console_url" in text and "tributary console --stack-file" in text
