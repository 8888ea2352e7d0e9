"""The SQL shipped for both engines stays in what both parse: the named queries in DuckDB's and Trino's
(Athena's) dialects with only functions both have; the Athena views in Trino's, naming the described
columns in order. DuckDB runs the named queries for real in ``test_named.py``; sqlglot's parsers stand in
for Athena here."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from contracts.tables import contract_tables
from tributary.lake.glue import views
from tributary.lake.named import NamedQuery, named_queries

SHARED_FUNCTIONS = {"Count", "Sum", "Max", "Min", "Avg", "RowNumber", "Cast"}


def _functions(tree: exp.Expression) -> set[str]:
    return {f.name if isinstance(f, exp.Anonymous) else type(f).__name__ for f in tree.find_all(exp.Func)}


@pytest.mark.parametrize("query", named_queries(), ids=lambda q: q.name)
def test_named_queries_parse_in_both_dialects_with_shared_functions(query: NamedQuery) -> None:
    for dialect in ("duckdb", "trino"):
        tree = sqlglot.parse_one(query.sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
        assert _functions(tree) <= SHARED_FUNCTIONS, (dialect, _functions(tree) - SHARED_FUNCTIONS)


def test_a_duckdb_only_function_would_be_caught() -> None:
    tree = sqlglot.parse_one("SELECT list_distinct(x) FROM t", read="duckdb")
    assert not _functions(tree) <= SHARED_FUNCTIONS


def test_views_parse_as_trino_and_name_the_described_columns() -> None:
    for table in contract_tables():
        for view in views("tributary_archive", table):
            tree = sqlglot.parse_one(view.sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
            assert isinstance(tree, exp.Select)
            assert [e.alias_or_name for e in tree.expressions] == [c.name for c in view.columns], view.name
