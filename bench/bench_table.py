"""The issue-21 figures of one ``pipeline_bench`` run as a readable Markdown table.

``table(lines)`` takes the run's JSON lines (``emulator_ceiling``, ``max_rate``, ``baseline``, ``latency``,
``memory``) and gives one row per figure; a figure a run did not produce reads ``n/a``.
"""

from __future__ import annotations

from typing import Any

SERVICES = ("ingest", "archiver", "graph_writer", "timeseries_writer", "notifier")
WORKERS = SERVICES[1:]
LATENCY_STORES = ("graph", "series", "notifier", "archive")


def _first(lines: list[dict[str, Any]], scenario: str, **match: Any) -> dict[str, Any]:
    return next(
        (
            line
            for line in lines
            if line.get("scenario") == scenario and all(line.get(k) == v for k, v in match.items())
        ),
        {},
    )


def _num(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _seconds(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def table(lines: list[dict[str, Any]]) -> str:
    ceiling = _first(lines, "emulator_ceiling")
    top = _first(lines, "max_rate")
    naive = _first(lines, "baseline")
    memory = _first(lines, "memory")
    rate, limit = top.get("events_per_s"), ceiling.get("end_to_end_events_per_s")
    share = f"{100 * rate / limit:.0f}%" if rate and limit else "n/a"
    cpu, alone = top.get("cpu_ms_per_event", {}), ceiling.get("cpu_ms_per_event", {})
    rows = [
        (
            f"end-to-end events/s at max rate vs the emulator's ceiling ({ceiling.get('queues')} queues)",
            f"{_num(rate, 0)} vs {_num(limit, 0)} ({share}) over {_seconds(top.get('window_s'))} s,"
            f" {top.get('events', 'n/a')} events",
        ),
        ("cores busy at max rate (services + emulator)", _num(top.get("cores_busy"))),
        (
            "CPU ms per event: " + " / ".join(SERVICES) + " (emulator; emulator alone at its ceiling)",
            " / ".join(_num(cpu.get(s), 3) for s in SERVICES)
            + f" ({_num(cpu.get('emulator'), 3)}; {_num(alone.get('emulator'), 3)})",
        ),
    ]
    for share_of_max in (0.5, 0.9):
        paced = _first(lines, "latency", share_of_max=share_of_max)
        offered = _num(paced.get("offered_per_s"), 0)
        stores = paced.get("stores", {})
        cells = [
            f"{_seconds(stores.get(s, {}).get('latency_s', {}).get('p50'))}"
            f"/{_seconds(stores.get(s, {}).get('latency_s', {}).get('p99'))}"
            for s in LATENCY_STORES
        ]
        rows.append(
            (
                f"publish→stored p50/p99 s at {share_of_max:.0%} of max ({offered}/s): "
                + " / ".join(LATENCY_STORES),
                " / ".join(cells),
            )
        )
    peaks = memory.get("peak_rss_mb_per_replica", {})
    rows.append(
        (
            "peak RSS MB: " + " / ".join(SERVICES),
            " / ".join(_num(max(peaks[s]) if peaks.get(s) else None, 0) for s in SERVICES),
        )
    )
    calls = top.get("aws_calls_per_event", {})
    naive_total = naive.get("aws_calls_per_event", {}).get("baseline", {}).get("total")
    worker_calls = [calls.get(w, {}).get("total") for w in WORKERS]
    worst = max((c for c in worker_calls if c is not None), default=None)
    ratio = f"{naive_total / worst:.0f}x fewer" if naive_total and worst else "n/a"
    rows.append(
        (
            "AWS calls per event: " + " / ".join(WORKERS) + " (naive consumer)",
            " / ".join(_num(c, 3) for c in worker_calls) + f" ({_num(naive_total, 2)}; {ratio})",
        )
    )
    check = top.get("store_check", {}).get("once")
    rows.append(("each event stored once (max rate)", "n/a" if check is None else str(check)))
    width = max(len(name) for name, _ in rows)
    out = [f"| {'figure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
    out += [f"| {name.ljust(width)} | {value} |" for name, value in rows]
    return "\n".join(out)
