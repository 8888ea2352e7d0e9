"""Physical names and SSM parameter paths, the same as local provisioning (:mod:`tributary.provision`).

Queues, rules and topics carry the names provisioning gives them locally (``<bus>-<svc>``,
``<bus>-<svc>-dlq``, ``<bus>-<svc>-<topic>``), so the operator CLI finds them by the same names on AWS.
"""

from __future__ import annotations

import re

from tributary.provision import TARGET_ID, TARGET_MAX_EVENT_AGE_S, TARGET_MAX_RETRY_ATTEMPTS

__all__ = [
    "TARGET_ID",
    "TARGET_MAX_EVENT_AGE_S",
    "TARGET_MAX_RETRY_ATTEMPTS",
    "core_parameter",
    "dlq_name",
    "influxdb_name",
    "queue_name",
    "rule_name",
    "stack_name",
    "topic_name",
]


def queue_name(bus: str, service: str) -> str:
    return f"{bus}-{service}"


def dlq_name(bus: str, service: str) -> str:
    return f"{bus}-{service}-dlq"


def rule_name(bus: str, service: str) -> str:
    return f"{bus}-{service}"


def topic_name(bus: str, service: str, topic: str) -> str:
    return f"{bus}-{service}-{topic}"


def stack_name(bus: str, part: str) -> str:
    """``Tributary-Core``, ``Tributary-GraphWriter`` (a bus other than ``tributary`` adds its name)."""
    words = "".join(w.capitalize() for w in re.split(r"[_\-]", part))
    prefix = "Tributary" if bus == "tributary" else f"Tributary-{bus}"
    return f"{prefix}-{words}"


def core_parameter(bus: str, name: str) -> str:
    """The SSM parameter through which the core stack hands ``name`` to the service stacks."""
    return f"/tributary/{bus}/core/{name}"


def influxdb_name(bus: str, name: str) -> str:
    """A Timestream for InfluxDB instance name: a letter first, then letters and digits in groups joined by
    single hyphens, 3 to 40 characters (``tributary-series``)."""
    words = [w for w in re.split(r"[^a-zA-Z0-9]+", f"{bus}-{name}") if w]
    joined = "-".join(words)
    if not joined[:1].isalpha():
        joined = f"t-{joined}"
    return joined[:40].rstrip("-")
