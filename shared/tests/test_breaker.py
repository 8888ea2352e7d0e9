"""Tests of the circuit breaker's states: closed, open for a cooldown, half-open probe."""

from __future__ import annotations

from shared.breaker import BreakerState, CircuitBreaker
from shared.testkit.envelopes import FakeClock


def test_opens_after_threshold_outages_in_a_row_and_not_before() -> None:
    """Two outage batches keep it closed, the third opens it; a success in between resets the count."""
    breaker = CircuitBreaker(threshold=3, open_s=5, max_open_s=20, clock=FakeClock())
    for outage in (True, True, False, True, True):
        breaker.record(outage=outage)
    assert breaker.state is BreakerState.CLOSED and breaker.receiving
    breaker.record(outage=True)
    assert breaker.state is BreakerState.OPEN and not breaker.receiving and not breaker.probe_due


def test_half_open_after_the_cooldown_then_closes_on_a_good_probe() -> None:
    """After the cooldown one probe is due; a probe the store took closes the breaker."""
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, open_s=5, max_open_s=20, clock=clock)
    breaker.record(outage=True)
    clock.advance(4.9)
    assert not breaker.probe_due
    clock.advance(0.2)
    assert breaker.probe_due and not breaker.receiving
    breaker.record(outage=False)
    assert breaker.state is BreakerState.CLOSED


def test_failed_probes_double_the_cooldown_up_to_the_maximum() -> None:
    """Each failed probe re-opens it for twice as long, never past max_open_s; success resets it."""
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, open_s=5, max_open_s=12, clock=clock)
    breaker.record(outage=True)
    cooldowns = []
    for _ in range(3):
        waited = 0.0
        while not breaker.probe_due:
            clock.advance(0.5)
            waited += 0.5
        cooldowns.append(waited)
        breaker.record(outage=True)
    assert cooldowns == [5.0, 10.0, 12.0]
    clock.advance(12)
    breaker.record(outage=False)
    breaker.record(outage=True)
    clock.advance(5)
    assert breaker.probe_due and breaker.opened == 5
