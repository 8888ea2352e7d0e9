"""DynamoDB backend of the ledger: one table shared by every task and Lambda environment of a service.

One table keyed ``pk`` (string), TTL attribute ``expires``, two kinds of item:

=============  ===============  ===================================================
item           pk               attributes
=============  ===============  ===================================================
event id       ``e#<id>``       ``location``, ``digest``, ``expires``
location       ``l#<location>`` ``done`` (bool), ``updated``, ``expires``
=============  ===============  ===================================================

An id points at the location it was claimed for; the location item says whether that write landed, so
completing or releasing a write is one call whatever its size. Ids are claimed by conditional writes,
grouped in ``TransactWriteItems`` calls of up to 100: a put succeeds only if the id is new (or expired)
or still points where it pointed when it was read, so of two racing writers one wins and the other sees the
id as busy. A location item that is gone (released) makes its ids free. Items expire by TTL after the
dedupe window (``window_s``); reads ignore expired items that TTL has not yet removed, so nothing is pruned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from itertools import batched
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.awsjson import AwsCaller, BotoCaller, JsonApi
from shared.errors import RetryableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
from shared.idempotency.decide import LedgerRow, ask_landed, decide
from shared.idempotency.ports import Claim, Landed

_TRANSACT_MAX = 100
_GET_MAX = 100
_GET_ROUNDS = 8
_NO_CONFLICT = "None"  # a CancellationReason code for an item that did not cause the cancellation


def _n(value: float) -> dict[str, str]:
    return {"N": repr(float(value))}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class DynamoLedger:
    """:class:`~shared.idempotency.IdempotencyLedger` in a DynamoDB table, through an injected client."""

    def __init__(
        self,
        *,
        client: DynamoDBClient,
        table: str,
        window_s: float = 7 * 24 * 3600,
        clock: Callable[[], float] = time.time,
        api: JsonApi | None = None,
    ) -> None:
        self._client = client
        self._caller: AwsCaller = api if api is not None else BotoCaller(client)
        self.table = table
        self._window_s = window_s
        self._clock = clock

    # -- calls --------------------------------------------------------------------------------------------

    def _call(self, name: str, **kwargs: Any) -> Any:
        """One DynamoDB call (``name``: ``PutItem``…), through ``api`` (the lean caller) when given, else
        ``client`` (which also makes the table); a failed condition or transaction propagates as ClientError,
        the rest retry."""
        try:
            return self._caller.call(name, kwargs)
        except ClientError as exc:
            if _code(exc) in {"ConditionalCheckFailedException", "TransactionCanceledException"}:
                raise
            raise RetryableError(f"DynamoDB {name} on {self.table} failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise RetryableError(f"DynamoDB {name} on {self.table} failed: {type(exc).__name__}") from exc

    def _get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Items by ``pk`` (strongly consistent), following ``UnprocessedKeys``; expired ones left out."""
        now = self._clock()
        found: dict[str, dict[str, Any]] = {}
        for chunk in batched(dict.fromkeys(keys), _GET_MAX, strict=False):
            request: dict[str, Any] = {
                self.table: {"Keys": [{"pk": _s(pk)} for pk in chunk], "ConsistentRead": True}
            }
            for _ in range(_GET_ROUNDS):
                page = self._call("BatchGetItem", RequestItems=request)
                for item in page.get("Responses", {}).get(self.table, []):
                    if float(item["expires"]["N"]) >= now:
                        found[item["pk"]["S"]] = item
                request = page.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise RetryableError(f"DynamoDB batch_get_item on {self.table} kept keys unprocessed")
        return found

    def _put_ids(
        self, ids: Mapping[str, str], expected: Mapping[str, str | None], *, location: str, now: float
    ) -> list[str]:
        """Point each id of ``expected`` at ``location`` if it still points where it did; returns the winners.

        ``expected[id]`` is the location the id pointed at when read, or None if it had no (live) item.
        """
        pending = list(expected)
        won: list[str] = []
        while pending:
            chunk, pending = pending[:_TRANSACT_MAX], pending[_TRANSACT_MAX:]
            puts = [self._put(id_, ids[id_], expected[id_], location=location, now=now) for id_ in chunk]
            try:
                self._call("TransactWriteItems", TransactItems=[{"Put": put} for put in puts])
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons") or []
                if len(reasons) != len(chunk):  # an emulator that does not say which item failed
                    won.extend(self._put_one_by_one(chunk, puts))
                    continue
                retry = [id_ for id_, r in zip(chunk, reasons, strict=True) if r.get("Code") == _NO_CONFLICT]
                if len(retry) == len(chunk):  # cancelled for no item's sake (a conflicting transaction)
                    raise RetryableError(f"DynamoDB transaction on {self.table} was cancelled") from exc
                pending = retry + pending
                continue
            won.extend(chunk)
        return won

    def _put(
        self, id_: str, digest: str, expected: str | None, *, location: str, now: float
    ) -> dict[str, Any]:
        item = {
            "pk": _s(f"e#{id_}"),
            "location": _s(location),
            "digest": _s(digest),
            "expires": _n(now + self._window_s),
        }
        if expected is None:
            return {
                "TableName": self.table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk) OR #expires < :now",
                "ExpressionAttributeNames": {"#expires": "expires"},
                "ExpressionAttributeValues": {":now": _n(now)},
            }
        return {
            "TableName": self.table,
            "Item": item,
            "ConditionExpression": "#loc = :expected",
            "ExpressionAttributeNames": {"#loc": "location"},
            "ExpressionAttributeValues": {":expected": _s(expected)},
        }

    def _put_one_by_one(self, chunk: list[str], puts: list[dict[str, Any]]) -> list[str]:
        won = []
        for id_, put in zip(chunk, puts, strict=True):
            try:
                self._call("PutItem", **put)
            except ClientError:
                continue
            won.append(id_)
        return won

    def _set_location(
        self, location: str, *, done: bool, now: float, if_pending_since: float | None = None
    ) -> bool:
        """Write a location item; with ``if_pending_since``, only if it is still that pending claim."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "pk": _s(f"l#{location}"),
                "done": {"BOOL": done},
                "updated": _n(now),
                "expires": _n(now + self._window_s),
            },
        }
        if if_pending_since is not None:
            kwargs["ConditionExpression"] = "#done = :false AND #updated = :since"
            kwargs["ExpressionAttributeNames"] = {"#done": "done", "#updated": "updated"}
            kwargs["ExpressionAttributeValues"] = {":false": {"BOOL": False}, ":since": _n(if_pending_since)}
        try:
            self._call("PutItem", **kwargs)
        except ClientError:
            return False
        return True

    # -- the port -----------------------------------------------------------------------------------------

    def claim(self, ids: Mapping[str, str], *, location: str, lease_s: float, landed: Landed) -> Claim:
        now = self._clock()
        id_items = self._get_many(f"e#{id_}" for id_ in ids)
        pointed = {id_: id_items[f"e#{id_}"] for id_ in ids if f"e#{id_}" in id_items}
        locations = self._get_many(f"l#{item['location']['S']}" for item in pointed.values())
        rows: dict[str, LedgerRow] = {}
        for id_, item in pointed.items():
            loc = locations.get(f"l#{item['location']['S']}")
            if loc is not None:  # no location item: released (or expired), so the id is free
                rows[id_] = LedgerRow(
                    item["location"]["S"],
                    loc["done"]["BOOL"],
                    float(loc["updated"]["N"]),
                    item["digest"]["S"],
                )
        expected = {id_: item["location"]["S"] for id_, item in pointed.items()}
        decision = decide(ids, rows, location=location, lease_s=lease_s, now=now)
        if decision.fresh or decision.stale:
            self._set_location(location, done=False, now=now)
        won = set(
            self._put_ids(ids, {i: expected.get(i) for i in decision.fresh}, location=location, now=now)
        )
        decision.busy.extend(id_ for id_ in decision.fresh if id_ not in won)
        fresh = [id_ for id_ in decision.fresh if id_ in won]
        done = decision.done
        if decision.stale:
            try:
                verdicts = ask_landed(decision.stale, landed)
            except BaseException:
                self.release(location)  # the store cannot answer: claim nothing, the whole claim retries
                raise
            taken = {id_: row.location for id_, row in decision.stale.items() if not verdicts[row.location]}
            won = set(self._put_ids(ids, taken, location=location, now=now))
            landed_since = {
                row.location: row.updated for row in decision.stale.values() if verdicts[row.location]
            }
            settled = {
                loc: self._set_location(loc, done=True, now=now, if_pending_since=since)
                for loc, since in landed_since.items()
            }
            for id_, row in decision.stale.items():
                if id_ in won:
                    fresh.append(id_)
                elif settled.get(row.location):
                    done.append(id_)
                else:  # another writer changed the claim meanwhile
                    decision.busy.append(id_)
        return Claim(fresh=fresh, done=done, busy=decision.busy, conflict=decision.conflict)

    def complete(self, location: str) -> None:
        self._set_location(location, done=True, now=self._clock())

    def release(self, location: str) -> None:
        with suppress(ClientError):  # completed meanwhile (or gone): nothing to release
            self._call(
                "DeleteItem",
                TableName=self.table,
                Key={"pk": _s(f"l#{location}")},
                ConditionExpression="#done = :false",
                ExpressionAttributeNames={"#done": "done"},
                ExpressionAttributeValues={":false": {"BOOL": False}},
            )

    def prune(self, *, older_than_s: float) -> int:
        return 0  # TTL expires the items; reads ignore the expired ones TTL has not removed yet

    def ensure_table(self) -> bool:
        """Create the table (on-demand, TTL on ``expires``) if it does not exist; True if created.

        Provisioning (the CDK stack) normally owns the table; local stacks and tests call this.
        """
        try:
            self._client.create_table(
                TableName=self.table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            )
            created = True
        except ClientError as exc:
            if _code(exc) != "ResourceInUseException":
                raise RetryableError(f"cannot create DynamoDB table {self.table}: {_code(exc)}") from exc
            created = False
        except BotoCoreError as exc:
            raise RetryableError(f"cannot create DynamoDB table {self.table}: {type(exc).__name__}") from exc
        self._client.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        if created:
            try:
                self._client.update_time_to_live(
                    TableName=self.table,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
                )
            except ClientError as exc:  # an emulator without TTL: reads ignore expired items all the same
                if _code(exc) not in {"ValidationException", "UnknownOperationException"}:
                    raise RetryableError(f"cannot enable TTL on {self.table}: {_code(exc)}") from exc
        return created
