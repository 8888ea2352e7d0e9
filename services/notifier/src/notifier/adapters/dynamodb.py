"""DynamoDB adapter of :class:`~notifier.ports.NotificationStateStore`: the store in AWS (and on MiniStack).

One table, keyed ``pk`` (partition) + ``sk`` (sort), with a TTL attribute ``expires_at``:

============================  ==========  =====================================================
item                          pk          sk
============================  ==========  =====================================================
notification (once-only/log)  notif#rule  the alert key (event id or silence id)
cooldown                      cool#rule   the subject
last sighting (absence)       seen#rule   the subject
rate occurrence               rate#rule#  the event id
                              subject#ms
============================  ==========  =====================================================

Notifications also carry ``log_day``/``log_at``, the keys of the sparse ``log`` index that lists the
notification log by day. Once-only is a put conditioned on ``attribute_not_exists(pk)``; taking over an
unfinished notification, starting a cooldown and raising a last-seen time are conditional writes too.
When a condition fails the adapter reads the item (strongly consistent) instead of relying on
``ReturnValuesOnConditionCheckFailure``, which not every emulator implements.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from notifier.model import DEFAULT_RETENTION_S, Alert, NotificationClaim, NotificationRecord
from notifier.ports import Settled
from shared.aws import service_unavailable
from shared.awsjson import AwsCaller, BotoCaller
from shared.errors import RetryableError, StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from shared.awsjson import JsonApi

LOG_INDEX = "log"
_FINAL = {":f1": {"S": "sent"}, ":f2": {"S": "suppressed"}, ":f3": {"S": "abandoned"}}
_COOLDOWN_KEEP_S = 86_400


def _n(value: float) -> dict[str, str]:
    return {"N": repr(float(value)) if not float(value).is_integer() else str(int(value))}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _conditional(exc: ClientError) -> bool:
    return bool(exc.response["Error"]["Code"] == "ConditionalCheckFailedException")


class DynamoStateStore:
    """The notifier's state in one DynamoDB table, through an injected boto3 ``dynamodb`` client and, for
    the calls of every batch, the lean JSON caller when given."""

    def __init__(
        self,
        *,
        client: DynamoDBClient,
        table: str,
        retention_s: float = DEFAULT_RETENTION_S,
        api: JsonApi | None = None,
    ) -> None:
        self._client = client
        self._caller: AwsCaller = api if api is not None else BotoCaller(client)
        self.table = table
        self.retention_s = retention_s

    # -- calls --------------------------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call (``operation``: ``UpdateItem``…), through ``api`` (the lean caller) when given,
        else ``client`` (which also makes the table); a failed condition propagates as ClientError, anything
        else is retryable."""
        try:
            return self._caller.call(operation, {"TableName": self.table, **kwargs})
        except ClientError as exc:
            if _conditional(exc):
                raise
            error = StoreUnavailable if service_unavailable(exc) else RetryableError
            raise error(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._call(
            "GetItem", Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True
        ).get("Item")
        return item

    def _query_pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a query, following ``LastEvaluatedKey``."""
        while True:
            page: dict[str, Any] = self._call("Query", **kwargs)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- the port -----------------------------------------------------------------------------------------

    def claim(self, alert: Alert, *, now: float, lease_s: float) -> NotificationClaim:
        pk, sk = f"notif#{alert.rule}", alert.key
        created = datetime.fromtimestamp(now, UTC)
        item = {
            "pk": _s(pk),
            "sk": _s(sk),
            "subject": _s(alert.subject),
            "severity": _s(alert.severity),
            "message": _s(alert.message),
            "channels": {"L": [_s(c) for c in alert.channels]},
            "status": _s("pending"),
            "created_at": _n(now),
            "updated_at": _n(now),
            "lease_until": _n(now + lease_s),
            "attempts": _n(1),
            "expires_at": _n(int(now + self.retention_s)),
            "log_day": _s(created.strftime("%Y-%m-%d")),
            "log_at": _s(f"{created.isoformat(timespec='microseconds')}#{alert.rule}#{alert.key}"),
        }
        try:
            self._call("PutItem", Item=item, ConditionExpression="attribute_not_exists(pk)")
            return NotificationClaim(outcome="fresh", record=_record(item))
        except ClientError:
            pass  # it exists: take it over if unfinished and unleased
        try:
            attributes = self._call(
                "UpdateItem",
                Key={"pk": _s(pk), "sk": _s(sk)},
                UpdateExpression="SET lease_until = :lease, updated_at = :now, expires_at = :exp"
                " ADD attempts :one",
                ConditionExpression="attribute_exists(pk) AND NOT (#status IN (:f1, :f2, :f3))"
                " AND lease_until <= :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":lease": _n(now + lease_s),
                    ":now": _n(now),
                    ":exp": _n(int(now + self.retention_s)),
                    ":one": _n(1),
                    **_FINAL,
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
            return NotificationClaim(outcome="resumed", record=_record(attributes))
        except ClientError:
            pass  # finished, or leased by another worker
        current = self._get(pk, sk)
        if current is None:  # expired between the two calls: a later delivery starts afresh
            raise RetryableError(f"notification {alert.rule}/{alert.key} vanished while being claimed")
        record = _record(current)
        return NotificationClaim(outcome="done" if record.final else "busy", record=record)

    def extend_lease(self, rule: str, key: str, *, attempt: int, now: float, lease_s: float) -> bool:
        try:
            self._call(
                "UpdateItem",
                Key={"pk": _s(f"notif#{rule}"), "sk": _s(key)},
                UpdateExpression="SET lease_until = :lease",
                ConditionExpression="attribute_exists(pk) AND attempts = :attempt AND lease_until > :zero"
                " AND lease_until < :lease AND NOT (#status IN (:f1, :f2, :f3))",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":lease": _n(now + lease_s),
                    ":attempt": _n(attempt),
                    ":zero": _n(0),
                    **_FINAL,
                },
            )
        except ClientError:
            current = self._get(f"notif#{rule}", key)  # lost, or already leased at least that long
            return current is not None and _still_held(current, attempt)
        return True

    def release_cooldown(self, rule: str, subject: str, *, holder: str) -> None:
        with suppress(ClientError):  # another holder's cooldown (or none): nothing of ours to end
            self._call(
                "DeleteItem",
                Key={"pk": _s(f"cool#{rule}"), "sk": _s(subject)},
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": _s(holder)},
            )

    def hold_cooldown(self, rule: str, subject: str, *, holder: str, now: float, cooldown_s: float) -> bool:
        pk = f"cool#{rule}"
        try:
            self._call(
                "PutItem",
                Item={
                    "pk": _s(pk),
                    "sk": _s(subject),
                    "holder": _s(holder),
                    "until": _n(now + cooldown_s),
                    "expires_at": _n(int(now + cooldown_s + _COOLDOWN_KEEP_S)),
                },
                ConditionExpression="attribute_not_exists(pk) OR #until <= :now",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":now": _n(now)},
            )
            return True
        except ClientError:
            current = self._get(pk, subject)
            return current is not None and current["holder"]["S"] == holder

    def mark_sent(self, rule: str, key: str, channel: str, *, now: float) -> None:
        self._call(
            "UpdateItem",
            Key={"pk": _s(f"notif#{rule}"), "sk": _s(key)},
            UpdateExpression="ADD sent :channel SET updated_at = :now",
            ExpressionAttributeValues={":channel": {"SS": [channel]}, ":now": _n(now)},
        )

    def settle(self, rule: str, key: str, *, status: Settled, now: float, error: str | None = None) -> None:
        values: dict[str, Any] = {":status": _s(status), ":now": _n(now), ":zero": _n(0)}
        update = "SET #status = :status, updated_at = :now, lease_until = :zero"
        if error is None:
            update += " REMOVE #error"
        else:
            update += ", #error = :error"
            values[":error"] = _s(error[:2000])
        self._call(
            "UpdateItem",
            Key={"pk": _s(f"notif#{rule}"), "sk": _s(key)},
            UpdateExpression=update,
            ExpressionAttributeNames={"#status": "status", "#error": "error"},
            ExpressionAttributeValues=values,
        )

    def record_sightings(self, seen: Mapping[tuple[str, str], float], *, now: float) -> None:
        for (rule, subject), at in seen.items():
            try:
                self._call(
                    "UpdateItem",
                    Key={"pk": _s(f"seen#{rule}"), "sk": _s(subject)},
                    UpdateExpression="SET seen_at = :at, expires_at = :exp",
                    ConditionExpression="attribute_not_exists(pk) OR seen_at < :at",
                    ExpressionAttributeValues={":at": _n(at), ":exp": _n(int(at + self.retention_s))},
                )
            except ClientError:
                continue  # a newer sighting is already recorded

    def count_occurrence(self, rule: str, subject: str, *, window: tuple[float, float], event_id: str) -> int:
        start, end = window
        pk = _s(f"rate#{rule}#{subject}#{round(start * 1000)}")
        self._call(
            "PutItem",
            Item={"pk": pk, "sk": _s(event_id), "expires_at": _n(int(end + self.retention_s))},
        )
        pages = self._query_pages(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": pk},
            Select="COUNT",
            ConsistentRead=True,
        )
        return sum(int(page.get("Count", 0)) for page in pages)

    def silent(self, rule: str, *, before: float, now: float) -> list[tuple[str, float]]:
        pages = self._query_pages(
            KeyConditionExpression="pk = :pk",
            FilterExpression="seen_at < :before AND expires_at > :now",
            ExpressionAttributeValues={":pk": _s(f"seen#{rule}"), ":before": _n(before), ":now": _n(now)},
        )
        found = [(i["sk"]["S"], float(i["seen_at"]["N"])) for page in pages for i in page.get("Items", [])]
        return sorted(found, key=lambda item: (item[1], item[0]))

    def recent(self, *, limit: int = 50, now: float | None = None) -> list[NotificationRecord]:
        day = datetime.fromtimestamp(now, UTC) if now is not None else datetime.now(UTC)
        out: list[NotificationRecord] = []
        for _ in range(int(self.retention_s // 86400) + 1):
            page = self._call(
                "Query",
                IndexName=LOG_INDEX,
                KeyConditionExpression="log_day = :day",
                ExpressionAttributeValues={":day": _s(day.strftime("%Y-%m-%d"))},
                ScanIndexForward=False,
                Limit=limit - len(out),
            )
            out += [_record(i) for i in page.get("Items", [])]
            if len(out) >= limit:
                break
            day -= timedelta(days=1)
        return out

    def prune(self, *, now: float) -> int:
        return 0  # DynamoDB's TTL deletes expired items

    # -- table --------------------------------------------------------------------------------------------

    def ensure_table(self) -> bool:
        """Create the table (on-demand, with the log index and TTL) if it does not exist; True if created.

        Provisioning (CDK, local provisioning) normally owns the table; tests and local stacks call this.
        """
        try:
            self._client.create_table(
                TableName=self.table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": "S"}
                    for name in ("pk", "sk", "log_day", "log_at")
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": LOG_INDEX,
                        "KeySchema": [
                            {"AttributeName": "log_day", "KeyType": "HASH"},
                            {"AttributeName": "log_at", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise RetryableError(f"cannot create DynamoDB table {self.table}: {exc}") from exc
            self._wait_active()  # another replica may be creating it right now
            return False
        self._wait_active()
        try:
            self._client.update_time_to_live(
                TableName=self.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
            )
        except ClientError as exc:  # already enabled, or an emulator without TTL: items then stay
            if exc.response["Error"]["Code"] not in {"ValidationException", "UnknownOperationException"}:
                raise RetryableError(f"cannot enable TTL on {self.table}: {exc}") from exc
        return True

    def _wait_active(self) -> None:
        try:
            self._client.get_waiter("table_exists").wait(
                TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        except (ClientError, BotoCoreError) as exc:  # WaiterError is a BotoCoreError
            raise RetryableError(f"DynamoDB table {self.table} did not become active: {exc}") from exc


def _still_held(item: Mapping[str, Any], attempt: int) -> bool:
    """Whether the claim that counted ``attempt`` still holds the notification ``item``."""
    return (
        item["status"]["S"] not in {v["S"] for v in _FINAL.values()}
        and int(float(item["attempts"]["N"])) == attempt
        and float(item["lease_until"]["N"]) > 0
    )


def _record(item: Mapping[str, Any]) -> NotificationRecord:
    return NotificationRecord(
        rule=item["pk"]["S"].removeprefix("notif#"),
        key=item["sk"]["S"],
        subject=item["subject"]["S"],
        severity=item["severity"]["S"],
        message=item["message"]["S"],
        channels=tuple(c["S"] for c in item["channels"]["L"]),
        status=item["status"]["S"],
        sent=frozenset(item.get("sent", {}).get("SS", [])),
        created_at=float(item["created_at"]["N"]),
        updated_at=float(item["updated_at"]["N"]),
        attempts=int(float(item["attempts"]["N"])),
        error=item["error"]["S"] if "error" in item else None,
    )
