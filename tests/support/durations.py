"""The slowest tests of a whole `make test` run, from the JUnit XML reports its pytest steps wrote.

``python -m tests.support.durations REPORT.xml [REPORT.xml …] [--top N]`` prints the N slowest test cases
across every report (missing reports are skipped, so a run that stopped early still gets its table).
"""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET  # our own pytest's reports, not untrusted input
from pathlib import Path


def slowest(reports: list[Path], top: int) -> list[tuple[float, str]]:
    """The ``top`` slowest ``(seconds, test id)`` pairs in ``reports``."""
    cases: list[tuple[float, str]] = []
    for report in reports:
        if not report.is_file():
            continue
        for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            cases.append((float(case.get("time", "0") or 0), name))
    return sorted(cases, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    rows = slowest(args.reports, args.top)
    total = sum(s for s, _ in rows)
    print(f"\nslowest {len(rows)} tests (setup + call + teardown), {total:.0f} s together:")
    for seconds, name in rows:
        print(f"  {seconds:8.1f} s  {name}")


if __name__ == "__main__":
    main()
