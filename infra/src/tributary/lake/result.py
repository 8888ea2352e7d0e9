"""What a lake query answers, whichever engine ran it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LakeError(ValueError):
    """A lake query could not run: bad SQL, an unknown named query, Athena failing the query."""


@dataclass(kw_only=True)
class QueryResult:
    """Column names, rows as tuples, and where the time went (``load_s``: reading the archive locally)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    engine: str
    query_s: float = 0.0
    load_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
