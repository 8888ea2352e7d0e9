"""Tests of the ``ops.dlq_depth`` contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts import validate_data
from contracts.events.ops_dlq_depth import OpsDlqDepthV1
from shared.testkit.samples import load_sample
from shared.testkit.validation import error_locs


def test_sample_parses() -> None:
    """The sample reports three messages in the archiver's DLQ, the oldest 42.5 s old."""
    depth = OpsDlqDepthV1.model_validate(load_sample("ops.dlq_depth", 1)["data"])
    assert (depth.service, depth.queue, depth.depth, depth.oldest_age_s) == (
        "archiver",
        "tributary-archiver-dlq",
        3,
        42.5,
    )
    assert depth.observed_at == datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    assert depth.alarm is None


def test_is_registered() -> None:
    """``ops.dlq_depth`` v1 is a known contract, so ingest accepts it."""
    assert isinstance(
        validate_data("ops.dlq_depth", 1, load_sample("ops.dlq_depth", 1)["data"]), OpsDlqDepthV1
    )


@pytest.mark.parametrize(
    "data",
    [
        {"service": "graph_writer", "queue": "tributary-graph_writer-dlq"},
        {"queue": "alerts.fifo"},
        {"oldest_age_s": None},
        {"alarm": "tributary-archiver-dlq-not-empty"},
        {"depth": 0},
    ],
    ids=["underscored-service", "fifo-queue", "age-unknown", "from-an-alarm", "emptied"],
)
def test_accepts(data: dict[str, object]) -> None:
    """Service names with underscores, FIFO queues, an unknown age, an alarm name and depth 0 are valid."""
    sample = load_sample("ops.dlq_depth", 1)["data"] | data
    OpsDlqDepthV1.model_validate(sample)


def test_age_may_be_left_out() -> None:
    """``oldest_age_s`` is optional: MiniStack has no SQS age metric."""
    data = load_sample("ops.dlq_depth", 1)["data"]
    del data["oldest_age_s"]
    assert OpsDlqDepthV1.model_validate(data).oldest_age_s is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("depth", -1),
        ("depth", 1.5),
        ("oldest_age_s", -0.1),
        ("oldest_age_s", float("inf")),
        ("service", "Archiver"),
        ("service", ""),
        ("queue", "a/b"),
        ("queue", "q" * 81),
        ("observed_at", "2025-06-02T12:00:00"),
        ("alarm", ""),
    ],
    ids=[
        "negative-depth",
        "fractional-depth",
        "negative-age",
        "infinite-age",
        "service-case",
        "no-service",
        "queue-slash",
        "queue-too-long",
        "naive-time",
        "empty-alarm",
    ],
)
def test_rejects_bad_field(field: str, value: object) -> None:
    """A bad value is rejected at its field."""
    data = load_sample("ops.dlq_depth", 1)["data"]
    data[field] = value
    assert error_locs(OpsDlqDepthV1, data) == [(field,)]


def test_rejects_unknown_field() -> None:
    """Fields outside the contract are rejected, not dropped."""
    data = load_sample("ops.dlq_depth", 1)["data"]
    data["region"] = "ap-northeast-1"
    assert error_locs(OpsDlqDepthV1, data) == [("region",)]


def test_requires_depth_and_observed_at() -> None:
    """Without how many and when, there is no observation."""
    data = load_sample("ops.dlq_depth", 1)["data"]
    del data["depth"], data["observed_at"]
    assert error_locs(OpsDlqDepthV1, data) == [("depth",), ("observed_at",)]
