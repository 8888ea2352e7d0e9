"""Tests of the Neptune adapter against the exact requests it sends (botocore Stubber), retries included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from graph_writer import cypher
from graph_writer.adapters.neptune import NeptuneGraphStore
from graph_writer.model import Neighbor, Node
from services.graph_writer.tests.builders import batch_of, registered, trade
from shared.errors import PermanentError, RetryableError


def _client() -> Any:
    return boto3.session.Session().client(
        "neptunedata",
        region_name="us-east-1",
        endpoint_url="https://neptune.example:8182",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Neptune:
    """The store under test, its stubber and the backoff waits it asked for."""

    def __init__(self, *, rows_per_call: int = 150, max_attempts: int = 4) -> None:
        self.client = _client()
        self.stubber = Stubber(self.client)
        self.sleeps: list[float] = []
        self.store = NeptuneGraphStore(
            client=self.client,
            rows_per_call=rows_per_call,
            max_attempts=max_attempts,
            sleep=self.sleeps.append,
        )

    def expect(self, query: str, params: dict[str, Any], results: list[dict[str, Any]] | None = None) -> None:
        self.stubber.add_response(
            "execute_open_cypher_query",
            {"results": results or []},
            {
                "openCypherQuery": query,
                "parameters": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            },
        )

    def fail(self, code: str, status: int = 400) -> None:
        self.stubber.add_client_error(
            "execute_open_cypher_query", service_error_code=code, http_status_code=status
        )


@pytest.fixture
def neptune() -> Iterator[Neptune]:
    n = Neptune()
    with n.stubber:
        yield n
        n.stubber.assert_no_pending_responses()


def test_a_batch_is_sent_as_the_shared_statements_with_json_parameters(neptune: Neptune) -> None:
    """Exactly the text of graph_writer.cypher, with the rows as the ``parameters`` JSON document."""
    batch = batch_of([registered("d1", "s1", 1), trade("t1", ("p1", "LAL", "BOS"), minute=2)])
    for statement in cypher.write_statements(batch):
        neptune.expect(statement.query, {"rows": statement.rows})
    neptune.store.write(batch)
    assert neptune.store.write_calls == 2


def test_rows_are_sent_in_chunks_of_rows_per_call() -> None:
    """320 trades at 150 rows per call: three calls of 150, 150 and 20 rows, in order."""
    n = Neptune(rows_per_call=150)
    batch = batch_of([trade(f"t{i}", (f"p{i}", "LAL", "BOS"), minute=i % 60) for i in range(320)])
    rows = cypher.write_statements(batch)[0].rows
    with n.stubber:
        for start in (0, 150, 300):
            n.expect(cypher.TRADES, {"rows": rows[start : start + 150]})
        n.store.write(batch)
        n.stubber.assert_no_pending_responses()
    assert n.store.write_calls == 3


def test_a_concurrent_modification_is_retried_with_backoff(neptune: Neptune) -> None:
    """ConcurrentModificationException twice, then success: the same request three times, two waits."""
    batch = batch_of([trade("t1", ("p1", "LAL", "BOS"))])
    (statement,) = cypher.write_statements(batch)
    neptune.fail("ConcurrentModificationException")
    neptune.fail("ConcurrentModificationException")
    neptune.expect(statement.query, {"rows": statement.rows})
    neptune.store.write(batch)
    assert len(neptune.sleeps) == 2
    assert all(0 <= s <= 5 for s in neptune.sleeps)


@pytest.mark.parametrize(
    ("code", "status"),
    [("TooManyRequestsException", 429), ("ThrottlingException", 400), ("InternalFailureException", 500)],
)
def test_throttling_and_server_errors_are_retried(neptune: Neptune, code: str, status: int) -> None:
    """Throttling and 5xx are retried in place like conflicts."""
    neptune.fail(code, status)
    neptune.expect(cypher.count_nodes_query("Device"), {}, [{"n": 4}])
    neptune.expect(cypher.count_nodes_query("Site"), {}, [{"n": 1}])
    for label in list(cypher.NODE_PROPERTIES)[2:]:
        neptune.expect(cypher.count_nodes_query(label), {}, [{"n": 0}])
    for rel in cypher.RELATIONSHIPS:
        neptune.expect(cypher.count_relationships_query(rel), {}, [{"n": 0}])
    counts = neptune.store.counts()
    assert counts.nodes["Device"] == 4 and counts.total_nodes == 5
    assert len(neptune.sleeps) == 1


def test_conflicts_that_never_clear_become_retryable_after_the_last_attempt(neptune: Neptune) -> None:
    """Four attempts, three waits, then RetryableError chained to the last ClientError."""
    for _ in range(4):
        neptune.fail("ConcurrentModificationException")
    with pytest.raises(RetryableError, match="ConcurrentModificationException") as caught:
        neptune.store.write(batch_of([trade("t1", ("p1", "LAL", "BOS"))]))
    assert isinstance(caught.value.__cause__, ClientError)
    assert len(neptune.sleeps) == 3


@pytest.mark.parametrize("code", ["MalformedQueryException", "BadRequestException", "QueryTooLargeException"])
def test_errors_about_the_query_are_permanent_and_not_retried(neptune: Neptune, code: str) -> None:
    """The same query cannot succeed: PermanentError at once, no wait."""
    neptune.fail(code)
    with pytest.raises(PermanentError, match=code) as caught:
        neptune.store.write(batch_of([trade("t1", ("p1", "LAL", "BOS"))]))
    assert isinstance(caught.value.__cause__, ClientError)
    assert neptune.sleeps == []


def test_access_denied_is_retryable_without_retrying_in_place(neptune: Neptune) -> None:
    """A permissions problem is not the event's fault: RetryableError for the runtime to back off, no wait."""
    neptune.fail("AccessDeniedException", 403)
    with pytest.raises(RetryableError, match="AccessDeniedException"):
        neptune.store.write(batch_of([trade("t1", ("p1", "LAL", "BOS"))]))
    assert neptune.sleeps == []


def test_node_reads_its_columns(neptune: Neptune) -> None:
    """The node query by ``~id``; absent (null) properties are left out."""
    neptune.expect(
        cypher.node_query("Player"),
        {"id": "player:p1"},
        [{"id": "player:p1", "player_id": "p1", "name": "P 1", "team": "BOS", "team_since": None}],
    )
    assert neptune.store.node("player:p1") == Node(
        id="player:p1", label="Player", properties={"player_id": "p1", "name": "P 1", "team": "BOS"}
    )


def test_neighbors_ask_hop_by_hop_per_label(neptune: Neptune) -> None:
    """The start node, then one query per hop and label of the frontier, each asking enough ids."""
    neptune.expect(cypher.node_query("Player"), {"id": "player:p1"}, [{"id": "player:p1"}])
    neptune.expect(
        cypher.neighbors_query("Player", "TRADED_TO", 11),
        {"ids": ["player:p1"]},
        [{"id": "team:BOS"}],
    )
    neptune.expect(
        cypher.neighbors_query("Team", "TRADED_TO", 12),
        {"ids": ["team:BOS"]},
        [{"id": "player:p1"}, {"id": "player:p2"}],
    )
    assert neptune.store.neighbors("player:p1", rel="TRADED_TO", depth=2, limit=10) == [
        Neighbor(id="team:BOS", label="Team", hops=1),
        Neighbor(id="player:p2", label="Player", hops=2),
    ]


def test_an_unreachable_endpoint_is_retryable() -> None:
    """Connection errors are retried in place, then RetryableError chained to the BotoCoreError."""
    sleeps: list[float] = []

    class Unreachable:
        def execute_open_cypher_query(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://neptune.example:8182")

    store = NeptuneGraphStore(client=Unreachable(), max_attempts=3, sleep=sleeps.append)
    with pytest.raises(RetryableError, match="unreachable") as caught:
        store.node("device:d1")
    assert isinstance(caught.value.__cause__, EndpointConnectionError)
    assert len(sleeps) == 2
