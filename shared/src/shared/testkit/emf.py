"""A strict checker of CloudWatch embedded metric format (EMF) log lines."""

from __future__ import annotations

from typing import Any

UNITS = frozenset(
    {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Count", "Percent", "None"}
)


def check_emf(line: dict[str, Any]) -> dict[str, float | list[float]]:
    """The metrics of a valid EMF line, by name.

    Raises:
        AssertionError: naming the first rule of the EMF specification the line breaks.
    """
    meta = line.get("_aws")
    assert isinstance(meta, dict), "no _aws object"
    assert isinstance(meta.get("Timestamp"), int) and meta["Timestamp"] > 0, (
        "_aws.Timestamp: epoch ms integer"
    )
    directives = meta.get("CloudWatchMetrics")
    assert isinstance(directives, list) and directives, "_aws.CloudWatchMetrics: a non-empty list"
    values: dict[str, float | list[float]] = {}
    for directive in directives:
        assert isinstance(directive.get("Namespace"), str) and directive["Namespace"], "Namespace: a string"
        dimension_sets = directive.get("Dimensions")
        assert isinstance(dimension_sets, list), "Dimensions: a list of dimension sets"
        for dimension_set in dimension_sets:
            assert isinstance(dimension_set, list) and len(dimension_set) <= 30, "a dimension set: ≤ 30 names"
            for name in dimension_set:
                assert isinstance(line.get(name), str), f"dimension {name}: a string at top level"
        metrics = directive.get("Metrics")
        assert isinstance(metrics, list) and 0 < len(metrics) <= 100, "Metrics: 1 to 100 definitions"
        for metric in metrics:
            name = metric.get("Name")
            assert isinstance(name, str) and name, "a metric definition needs a Name"
            assert metric.get("Unit", "None") in UNITS, f"{name}: unknown Unit {metric.get('Unit')}"
            value = line.get(name)
            if isinstance(value, list):
                assert 0 < len(value) <= 100, f"{name}: 1 to 100 values"
                assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in value), name
            else:
                assert isinstance(value, int | float) and not isinstance(value, bool), (
                    f"{name}: no value at top level"
                )
            values[name] = value
    return values
