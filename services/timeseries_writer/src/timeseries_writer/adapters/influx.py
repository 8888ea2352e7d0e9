"""Timestream for InfluxDB adapter of :class:`~timeseries_writer.ports.SeriesStore`: line protocol over the
InfluxDB v2 HTTP write API (``POST /api/v2/write``), through an injected ``httpx.Client``.

Each point is one line: measurement = metric, tags = the dimensions plus ``unit`` (sorted, as InfluxDB
prefers), fields ``value`` (float) and ``event_id`` (string), and the nanosecond timestamp of
:func:`~timeseries_writer.adapters.keys.timestamp_ns`. InfluxDB keeps one value per series, field and
timestamp, so a redelivered event overwrites its own point with the same values: idempotent.

Up to ``max_lines`` lines per request. A request InfluxDB refuses as a whole (400 unparsable, 422 outside
the bucket's retention) is sent again line by line, so only the events whose lines are refused fail, each
with InfluxDB's message; lines that were written twice are overwritten with themselves. 429 and 5xx
answers and connection errors are retried with tenacity, then raised as
:class:`~shared.errors.StoreUnavailable`, as are 401/403/404 (a token or bucket to fix, not a bad event).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import batched

import httpx
import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import WaitBaseT

from shared.errors import PermanentError, StoreUnavailable
from timeseries_writer.adapters.keys import timestamp_ns
from timeseries_writer.model import Point

log = structlog.get_logger()

WRITE_PATH = "/api/v2/write"
_MEASUREMENT = str.maketrans({"\\": "\\\\", ",": "\\,", " ": "\\ "})
_KEY = str.maketrans({"\\": "\\\\", ",": "\\,", "=": "\\=", " ": "\\ "})
_STRING = str.maketrans({"\\": "\\\\", '"': '\\"'})
_REFUSED = {400, 422}
_TRANSIENT = {429, 500, 502, 503, 504}


class LineProtocolError(ValueError):
    """A value that line protocol cannot carry (a newline or another control character)."""


def _checked(text: str, what: str) -> str:
    if not text:
        raise LineProtocolError(f"{what} is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise LineProtocolError(f"{what} {text!r} holds a control character: line protocol cannot carry it")
    return text


def line(point: Point) -> str:
    """The point as one line of InfluxDB line protocol.

    Raises:
        LineProtocolError: a name or value holds a newline or another control character, or is empty.
    """
    tags = {**point.dimensions, "unit": point.unit}
    measurement = _checked(point.metric, "metric").translate(_MEASUREMENT)
    tag_set = "".join(
        f",{_checked(k, 'tag key').translate(_KEY)}={_checked(v, f'tag {k}').translate(_KEY)}"
        for k, v in sorted(tags.items())
    )
    event_id = _checked(point.event_id, "event id").translate(_STRING)
    return f'{measurement}{tag_set} value={point.value!r},event_id="{event_id}" {timestamp_ns(point)}'


class _Transient(Exception):
    """An answer worth retrying (429, 5xx)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"InfluxDB answered {response.status_code}: {response.text[:300]}")
        self.response = response


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("influx_retry", attempt=state.attempt_number, error=str(error))


class InfluxSeriesStore:
    """One InfluxDB bucket.

    Args:
        client: an ``httpx.Client`` whose ``base_url`` is the InfluxDB endpoint and whose headers carry the
            ``Authorization: Token …``.
        org, bucket: where the points go.
        max_lines: lines per request (InfluxDB suggests 5,000).
        attempts: tries per request for 429, 5xx and connection errors.
        wait: tenacity's wait between tries (tests pass ``wait_none()``).
    """

    def __init__(
        self,
        *,
        client: httpx.Client,
        org: str,
        bucket: str,
        max_lines: int = 5000,
        attempts: int = 5,
        wait: WaitBaseT | None = None,
    ) -> None:
        self._client = client
        self._params = {"org": org, "bucket": bucket, "precision": "ns"}
        self._max_lines = max_lines
        self._retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait or wait_exponential_jitter(multiplier=0.1, max=5),
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient | httpx.TransportError)),
            before_sleep=_log_retry,
            reraise=True,
        )
        self.calls = 0

    def write(self, points: Sequence[Point]) -> Mapping[str, PermanentError]:
        failures: dict[str, PermanentError] = {}
        lines: list[tuple[Point, str]] = []
        seen: set[tuple[str, str]] = set()
        for point in points:
            if point.key in seen:
                continue
            seen.add(point.key)
            try:
                lines.append((point, line(point)))
            except LineProtocolError as exc:
                failures[point.event_id] = PermanentError(f"{point.metric} of {point.event_id}: {exc}")
        for chunk in batched(lines, self._max_lines, strict=False):
            response = self._post("\n".join(text for _, text in chunk))
            if response.status_code in _REFUSED:
                failures.update(self._line_by_line(chunk))
        return failures

    def _line_by_line(self, chunk: Sequence[tuple[Point, str]]) -> dict[str, PermanentError]:
        failures: dict[str, PermanentError] = {}
        for point, text in chunk:
            response = self._post(text)
            if response.status_code in _REFUSED:
                failures[point.event_id] = PermanentError(
                    f"InfluxDB refused {point.metric} of {point.event_id}: {_message(response)}"
                )
        return failures

    def _post(self, body: str) -> httpx.Response:
        """POST one body; returns a 2xx, 400 or 422 answer, raises StoreUnavailable for anything else."""
        try:
            response: httpx.Response = self._retrying(self._send, body)
        except _Transient as exc:
            raise StoreUnavailable(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB write failed: {exc}") from exc
        if response.is_success or response.status_code in _REFUSED:
            return response
        raise StoreUnavailable(f"InfluxDB answered {response.status_code}: {_message(response)}")

    def _send(self, body: str) -> httpx.Response:
        self.calls += 1
        response = self._client.post(
            WRITE_PATH,
            params=self._params,
            content=body.encode(),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        if response.status_code in _TRANSIENT:
            raise _Transient(response)
        return response


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    return str(body.get("message", response.text) if isinstance(body, dict) else body)[:500]
