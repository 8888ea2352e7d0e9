"""Tests of trace headers."""

from __future__ import annotations

from shared.tracing import continue_or_start, new_trace_header, trace_id


def test_new_headers_have_a_root_and_differ() -> None:
    """Fresh headers carry distinct X-Ray roots."""
    a, b = new_trace_header(), new_trace_header()
    assert trace_id(a) and trace_id(b) and trace_id(a) != trace_id(b)


def test_incoming_header_is_continued() -> None:
    """A valid incoming header is kept as is; garbage starts a new trace."""
    incoming = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    assert continue_or_start(incoming) == incoming
    assert trace_id(continue_or_start("garbage")) is not None
