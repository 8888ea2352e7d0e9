"""How many events the stack tests send, per test and emulator: one table, one knob.

A size here proves its property (stored once, the same aggregates, nothing lost across a kill) over many
batches, retries and redeliveries, and keeps ``make test`` inside its time (issue #22). LocalStack carries
PutEvents → SQS at a fraction of MiniStack's rate, so its sizes are smaller; every flow still runs on it.

``TRIBUTARY_E2E_SCALE`` multiplies every size: ``10`` gives the acceptance volumes the issues were closed on
(10,000 readings sent twice, 5,000 graph events, 10,000 dead letters and the fault suite's 10,000 events on
MiniStack). The benches (``bench/``) measure throughput at those sizes and larger.
"""

from __future__ import annotations

import os

SCALE_ENV = "TRIBUTARY_E2E_SCALE"

# test -> emulator -> events; a mode not named (a given stack, an endpoint) gets the smallest.
SIZES: dict[str, dict[str, int]] = {
    "skeleton": {"ministack": 1_000, "localstack": 500},  # published once, 5% invalid
    "series": {"ministack": 1_000, "localstack": 250},  # readings, published twice
    "graph": {"ministack": 500, "localstack": 200},  # relationship events: twice, then a redrive
    "sdk": {"ministack": 500, "localstack": 200},  # through injected partial failures
    "operators": {"ministack": 1_000, "localstack": 500},  # dead letters, peeked and redriven
    # a worker SIGKILLed while they flow: enough that it still holds some once some are stored (600 let it
    # finish first once in four runs)
    "crash": {"ministack": 1_500, "localstack": 600},
    "fault": {"ministack": 1_000},  # mixed events through the fault suite
}


def scale() -> float:
    """The multiplier in ``TRIBUTARY_E2E_SCALE`` (1 when unset)."""
    raw = os.environ.get(SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{SCALE_ENV}={raw!r} is not a number") from None
    if not value > 0:
        raise ValueError(f"{SCALE_ENV}={raw!r} must be above 0")
    return value


def volume(test: str, emulator: str) -> int:
    """The number of events ``test`` sends on ``emulator``, scaled."""
    sizes = SIZES[test]
    return max(1, round(sizes.get(emulator, min(sizes.values())) * scale()))
