"""Tests of the DynamoDB state store beyond the port contract: its table, its items, its errors."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from notifier.adapters.dynamodb import LOG_INDEX, DynamoStateStore
from notifier.model import Alert
from shared.errors import RetryableError

NOW = 1_750_000_000.0
ALERT = Alert(
    rule="hot", key="e-1", subject="dev-1", severity="warning", message="m", channels=("sns",), cooldown_s=60
)


def test_ensure_table_creates_it_once_with_ttl_and_the_log_index(aws: None) -> None:
    """On-demand, keyed pk/sk, TTL on ``expires_at``, the ``log`` index; a second call changes nothing."""
    client = boto3.client("dynamodb")
    store = DynamoStateStore(client=client, table="state")
    assert store.ensure_table() is True
    assert store.ensure_table() is False
    table = client.describe_table(TableName="state")["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == [LOG_INDEX]
    ttl = client.describe_time_to_live(TableName="state")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_items_are_keyed_by_rule_and_key_with_a_ttl(dynamo_store: DynamoStateStore) -> None:
    """The notification item: ``notif#<rule>`` / event id, expiring after the retention."""
    dynamo_store.claim(ALERT, now=NOW, lease_s=60)
    dynamo_store.hold_cooldown("hot", "dev-1", holder="e-1", now=NOW, cooldown_s=60)
    dynamo_store.record_sightings({("quiet", "dev-1"): NOW}, now=NOW)
    client = boto3.client("dynamodb")
    items = {(i["pk"]["S"], i["sk"]["S"]): i for i in client.scan(TableName="notifier-state")["Items"]}
    assert set(items) == {("notif#hot", "e-1"), ("cool#hot", "dev-1"), ("seen#quiet", "dev-1")}
    assert int(items[("notif#hot", "e-1")]["expires_at"]["N"]) == int(NOW + dynamo_store.retention_s)
    assert items[("notif#hot", "e-1")]["log_day"]["S"] == "2025-06-15"


def test_a_missing_table_is_a_retryable_outage(aws: None) -> None:
    """No table (not provisioned yet): RetryableError naming it, chained to the ClientError."""
    store = DynamoStateStore(client=boto3.client("dynamodb"), table="nope")
    with pytest.raises(RetryableError, match="on nope failed") as caught:
        store.claim(ALERT, now=NOW, lease_s=60)
    assert isinstance(caught.value.__cause__, ClientError)


def _stubbed() -> tuple[DynamoStateStore, Stubber]:
    client: Any = boto3.session.Session().client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return DynamoStateStore(client=client, table="state"), Stubber(client)


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_throttling_and_service_errors_are_retryable(code: str) -> None:
    """Every failure but a failed condition becomes RetryableError."""
    store, stubber = _stubbed()
    stubber.add_client_error("put_item", code, http_status_code=400)
    with stubber, pytest.raises(RetryableError, match=f"PutItem on state failed.*{code}"):
        store.hold_cooldown("hot", "dev-1", holder="e-1", now=NOW, cooldown_s=60)


def test_a_claim_that_vanishes_between_calls_is_retried() -> None:
    """Put refused (exists), takeover refused, then the item is gone (TTL): retry rather than guess."""
    store, stubber = _stubbed()
    stubber.add_client_error("put_item", "ConditionalCheckFailedException")
    stubber.add_client_error("update_item", "ConditionalCheckFailedException")
    stubber.add_response("get_item", {})
    with stubber, pytest.raises(RetryableError, match="vanished"):
        store.claim(ALERT, now=NOW, lease_s=60)
