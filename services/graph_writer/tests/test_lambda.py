"""Tests of graph_writer under the Lambda entry point (``shared.lambda_entry``): Neptune only, and the shared
adapter's outcomes (moto's in-process SQS)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from shared import lambda_entry
from shared.service import StartupError
from shared.testkit.aws import in_process_aws
from shared.testkit.letters import failure_of


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto's SQS with graph_writer's queue and DLQ, and the function's environment pointing at them."""
    monkeypatch.setenv("TRIBUTARY_SERVICE", "graph_writer")
    lambda_entry.reset()
    with in_process_aws(monkeypatch):
        sqs = boto3.client("sqs", region_name="us-east-1")
        urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("graph", "graph-dlq")}
        monkeypatch.setenv("TRIBUTARY_QUEUE_URL", urls["graph"])
        monkeypatch.setenv("TRIBUTARY_DLQ_URL", urls["graph-dlq"])
        yield urls
        lambda_entry.reset()


def _record(body: str) -> dict[str, object]:
    return {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {},
    }


def test_the_embedded_store_is_refused_under_lambda(lambda_env: dict[str, str]) -> None:
    """FalkorDB in a Lambda's /tmp would lose the graph: the first invocation fails with the reason."""
    with pytest.raises(StartupError, match="TRIBUTARY_GRAPH_STORE=neptune"):
        lambda_entry.handler({"Records": [_record("{}")]}, None)


def test_a_poison_message_is_dead_lettered_and_not_reported(
    lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body that is no envelope goes to the DLQ with its reason; Lambda may delete it (no item failure)."""
    monkeypatch.setenv("TRIBUTARY_GRAPH_STORE", "neptune")
    monkeypatch.setenv("TRIBUTARY_NEPTUNE_ENDPOINT", "https://neptune.example:8182")
    assert lambda_entry.handler({"Records": [_record("not json")]}, None) == {"batchItemFailures": []}
    sqs = boto3.client("sqs", region_name="us-east-1")
    (letter,) = sqs.receive_message(QueueUrl=lambda_env["graph-dlq"], MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert letter["Body"] == "not json"
    failure = failure_of(letter)
    assert (failure["error_type"], failure["service"]) == ("ContractError", "graph_writer")
