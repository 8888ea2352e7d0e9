"""The seed questions, shipped as named queries: one ``queries/<name>.sql`` file each.

Each file's text runs unchanged on DuckDB (locally) and on Athena (Trino): only the SQL both share
(CTEs, joins, ``UNION``, ``count(DISTINCT …)``, ``row_number() OVER``, ``ORDER BY … LIMIT``, double-quoted
identifiers). Its first line, a ``--`` comment, is its title.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from tributary.lake.result import LakeError


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    sql: str


def named_queries() -> list[NamedQuery]:
    """Every named query, sorted by name."""
    found = []
    for entry in resources.files("tributary.lake").joinpath("queries").iterdir():
        if entry.name.endswith(".sql"):
            sql = entry.read_text(encoding="utf-8")
            title = sql.splitlines()[0].removeprefix("--").strip()
            found.append(NamedQuery(entry.name.removesuffix(".sql"), title, sql))
    return sorted(found, key=lambda q: q.name)


def named_query(name: str) -> NamedQuery:
    """The named query ``name``.

    Raises:
        LakeError: there is none of that name.
    """
    queries = {q.name: q for q in named_queries()}
    if name not in queries:
        raise LakeError(f"no named query {name!r}; known: {', '.join(sorted(queries))}")
    return queries[name]
