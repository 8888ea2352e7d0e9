"""Counters from ``/metrics`` and the rates the console derives from them."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from tributary.console.rates import RateTracker, mean_ms, parse_counters, scrape


def exposition() -> str:
    registry = CollectorRegistry()
    messages = Counter("tributary_messages", "m", ["service", "outcome"], registry=registry)
    messages.labels("archiver", "stored").inc(7)
    messages.labels("archiver", "dead_lettered").inc(1)
    Histogram("tributary_store_seconds", "s", ["service"], registry=registry).labels("archiver").observe(0.25)
    Counter("other_total", "not ours", registry=registry).inc()
    return generate_latest(registry).decode()


def test_parse_counters_keys_by_name_and_labels_but_service() -> None:
    """Samples are keyed without the service label; foreign and _created samples are left out."""
    counters = parse_counters(exposition())
    assert counters["tributary_messages_total{outcome=stored}"] == 7
    assert counters["tributary_messages_total{outcome=dead_lettered}"] == 1
    assert counters["tributary_store_seconds_count"] == 1
    assert not [k for k in counters if k.startswith("other") or "_created" in k]


def test_scrape_sums_replicas_and_skips_the_silent() -> None:
    """Two replicas answering are summed; one refusing connections is left out."""
    page = exposition()

    def get(url: str) -> httpx.Response:
        if url.startswith("http://down"):
            raise httpx.ConnectError("refused")
        return httpx.Response(200, text=page)

    counters = scrape(["http://a", "http://b", "http://down"], get=get)
    assert counters is not None
    assert counters["tributary_messages_total{outcome=stored}"] == 14


def test_scrape_is_none_when_no_replica_answers() -> None:
    assert scrape(["http://x"], get=lambda url: httpx.Response(503)) is None


def test_rates_need_two_samples_then_grow_over_the_window() -> None:
    """The first look has no rate; later ones measure growth since the oldest sample in the window."""
    tracker = RateTracker(window_s=10)
    assert tracker.observe("s", 0.0, {"c": 0.0}).per_s is None
    assert tracker.observe("s", 2.0, {"c": 10.0}).rate("c") == pytest.approx(5.0)
    assert tracker.observe("s", 4.0, {"c": 30.0}).rate("c") == pytest.approx(7.5)
    later = tracker.observe("s", 13.0, {"c": 30.0})  # the base moves to the newest sample ≥ 10 s old
    assert later.rate("c") == pytest.approx(20.0 / 11.0)


def test_a_counter_that_went_down_is_no_growth() -> None:
    """A restarted replica's counters restart at zero: no negative rate."""
    tracker = RateTracker()
    tracker.observe("s", 0.0, {"c": 50.0})
    assert tracker.observe("s", 2.0, {"c": 3.0}).rate("c") == 0.0


def test_mean_ms_divides_the_growth_of_sum_by_count() -> None:
    tracker = RateTracker()
    tracker.observe("s", 0.0, {"h_sum": 1.0, "h_count": 4.0})
    rates = tracker.observe("s", 5.0, {"h_sum": 1.5, "h_count": 6.0})
    assert mean_ms(rates, "h") == pytest.approx(250.0)
    assert mean_ms(tracker.observe("t", 0.0, {}), "h") is None
