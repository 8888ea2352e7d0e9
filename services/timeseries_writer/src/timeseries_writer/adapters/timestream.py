"""Timestream for LiveAnalytics adapter of :class:`~timeseries_writer.ports.SeriesStore`.

One ``WriteRecords`` per 100 points (the API's limit). Every record is a multi-measure record named for the
point's metric, holding ``value`` (DOUBLE), ``unit`` and ``event_id`` (VARCHAR), timed in nanoseconds by
:func:`~timeseries_writer.adapters.keys.timestamp_ns` and versioned with the event's time in ms: a
redelivered event writes an identical record with the same version, which Timestream accepts as a no-op.
What every record of a call shares (measure type, time unit, and the dimensions when they are all the same)
goes into ``CommonAttributes``.

``RejectedRecords`` are settled record by record: a rejection whose ``ExistingVersion`` is at least the
record's own means the point is already stored (first write wins, as in the embedded store), any other
is a :class:`~shared.errors.PermanentError` for that event with Timestream's reason; the rest of the call
was ingested. Throttling and server errors are retried with tenacity (bounded, jittered), then raised as
:class:`~shared.errors.RetryableError`.

Retention (memory store 24 h, magnetic store 1 year, magnetic store writes on so late points within the
year are accepted) is provisioned with the table; see :data:`timeseries_writer.manifest.RETENTION`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import batched
from typing import TYPE_CHECKING, Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import WaitBaseT

from shared.errors import PermanentError, RetryableError, StoreUnavailable
from timeseries_writer.adapters.keys import timestamp_ns
from timeseries_writer.model import Point

if TYPE_CHECKING:
    from mypy_boto3_timestream_write import TimestreamWriteClient

log = structlog.get_logger()

MAX_RECORDS = 100
_TRANSIENT = {"ThrottlingException", "InternalServerException", "ServiceUnavailable", "RequestTimeout"}


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in _TRANSIENT
    return isinstance(exc, BotoConnectionError | HTTPClientError)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("timestream_retry", attempt=state.attempt_number, error=str(error))


class TimestreamSeriesStore:
    """One Timestream table, through an injected boto3 ``timestream-write`` client.

    Args:
        client: the ``timestream-write`` client (botocore's own retries best set to 1 attempt: this adapter
            retries).
        database, table: where the points go.
        attempts: tries per call for throttling and server errors.
        wait: tenacity's wait between tries (tests pass ``wait_none()``).
    """

    def __init__(
        self,
        *,
        client: TimestreamWriteClient,
        database: str,
        table: str,
        attempts: int = 5,
        wait: WaitBaseT | None = None,
    ) -> None:
        self._client = client
        self._database = database
        self._table = table
        self._retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait or wait_exponential_jitter(multiplier=0.1, max=5, jitter=0.1),
            retry=retry_if_exception(_is_transient),
            before_sleep=_log_retry,
            reraise=True,
        )
        self.calls = 0

    def write(self, points: Sequence[Point]) -> Mapping[str, PermanentError]:
        unique: dict[tuple[str, str], Point] = {}
        for point in points:
            unique.setdefault(point.key, point)
        # Points of one series next to each other, so calls more often share their dimensions.
        ordered = sorted(unique.values(), key=lambda p: (sorted(p.dimensions.items()), p.metric, p.time))
        failures: dict[str, PermanentError] = {}
        for chunk in batched(ordered, MAX_RECORDS, strict=False):
            failures.update(self._write_chunk(chunk))
        return failures

    def _write_chunk(self, chunk: tuple[Point, ...]) -> dict[str, PermanentError]:
        request = records_request(chunk, database=self._database, table=self._table)
        try:
            self._retrying(self._call, request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "RejectedRecordsException":
                rejected = exc.response.get("RejectedRecords", [])  # a key the error's stub does not type
                return _rejections(chunk, rejected if isinstance(rejected, list) else [])
            if code == "ValidationException":
                reason = PermanentError(f"Timestream refused the write: {exc}")
                return {p.event_id: reason for p in chunk}
            error = StoreUnavailable if _is_transient(exc) or _status(exc) >= 500 else RetryableError
            raise error(f"Timestream write failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"Timestream write failed: {exc}") from exc
        return {}

    def _call(self, request: dict[str, Any]) -> Any:
        self.calls += 1
        return self._client.write_records(**request)


def records_request(chunk: Sequence[Point], *, database: str, table: str) -> dict[str, Any]:
    """The ``WriteRecords`` arguments for up to 100 points."""
    dimension_sets = {tuple(sorted(p.dimensions.items())) for p in chunk}
    shared_dimensions = len(dimension_sets) == 1
    common: dict[str, Any] = {"MeasureValueType": "MULTI", "TimeUnit": "NANOSECONDS"}
    if shared_dimensions:
        common["Dimensions"] = _dimensions(chunk[0])
    records = []
    for point in chunk:
        record: dict[str, Any] = {
            "MeasureName": point.metric,
            "Time": str(timestamp_ns(point)),
            "Version": point.version,
            "MeasureValues": [
                {"Name": "value", "Value": repr(point.value), "Type": "DOUBLE"},
                {"Name": "unit", "Value": point.unit, "Type": "VARCHAR"},
                {"Name": "event_id", "Value": point.event_id, "Type": "VARCHAR"},
            ],
        }
        if not shared_dimensions:
            record["Dimensions"] = _dimensions(point)
        records.append(record)
    return {"DatabaseName": database, "TableName": table, "CommonAttributes": common, "Records": records}


def _dimensions(point: Point) -> list[dict[str, str]]:
    return [
        {"Name": name, "Value": value, "DimensionValueType": "VARCHAR"}
        for name, value in sorted(point.dimensions.items())
    ]


def _rejections(chunk: Sequence[Point], rejected: list[dict[str, Any]]) -> dict[str, PermanentError]:
    failures: dict[str, PermanentError] = {}
    for entry in rejected:
        point = chunk[int(entry["RecordIndex"])]
        existing = entry.get("ExistingVersion")
        if existing is not None and int(existing) >= point.version:
            log.info("point_already_stored", event_id=point.event_id, metric=point.metric, version=existing)
            continue
        reason = entry.get("Reason", "no reason given")
        failures[point.event_id] = PermanentError(
            f"Timestream rejected {point.metric} of {point.event_id}: {reason}"
        )
    return failures
