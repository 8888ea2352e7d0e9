"""Publishing through ingest's ``POST /v1/events``: requests of at most 500 events and 8 MiB, authenticated
with the producer's API key (``Authorization: Bearer``); only the events ingest reports as ``retryable`` (or a
whole request that failed in transit, with a 5xx or with a 429 rate limit) sent again, with the same ids,
after a backoff."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import httpx
from tenacity import AsyncRetrying, Retrying
from tenacity.wait import wait_base

from shared.putevents import default_wait, entry_size, retry_policy
from tributary_sdk.events import Prepared, PublishResult

MAX_EVENTS_PER_REQUEST = 500
"""ingest's default ``max_events`` per request."""
MAX_BODY_BYTES = 8 * 1024 * 1024
"""Half ingest's default body limit (16 MiB): room for the JSON around the events."""

TRACE_HEADER = "x-amzn-trace-id"
"""The header ingest continues the producer's trace from."""

API_KEY_ENV = "TRIBUTARY_API_KEY"
"""Where a publisher finds its API key when none is given."""


def auth_headers(api_key: str | None = None) -> dict[str, str]:
    """The headers that authenticate as the producer holding ``api_key`` (default: ``$TRIBUTARY_API_KEY``);
    none without a key (an ingest with authentication off)."""
    key = api_key or os.environ.get(API_KEY_ENV)
    return {"authorization": f"Bearer {key}"} if key else {}


Outcome = tuple[list[Prepared], dict[int, PublishResult]]


def request_body(prepared: Sequence[Prepared]) -> dict[str, Any]:
    """The JSON body for ``prepared``: each event as a producer submits it (``EventIn``), id included."""
    fields = ("id", "type", "version", "source", "time", "data")
    return {"events": [p.envelope.model_dump(mode="json", include=set(fields)) for p in prepared]}


def sort_response(prepared: Sequence[Prepared], status: int, body: Any) -> Outcome:
    """The events to retry, and the result of every other event of the request, by index."""
    results: dict[int, PublishResult] = {}
    if status in (202, 503) and isinstance(body, dict):
        retry: list[Prepared] = []
        for item in body.get("accepted", []):
            p = prepared[item["index"]]
            results[p.index] = PublishResult(index=p.index, id=p.envelope.id, ok=True)
        for item in body.get("rejected", []):
            p = prepared[item["index"]]
            message = "; ".join(f"{e['loc']}: {e['msg']}" for e in item.get("errors", []))
            results[p.index] = PublishResult(
                index=p.index, id=p.envelope.id, ok=False, code="Rejected", message=message
            )
            if item.get("retryable"):
                retry.append(p)
        return retry, results
    code = f"HTTP{status}"
    message = str(body.get("error", body) if isinstance(body, dict) else body)[:500]
    for p in prepared:
        results[p.index] = PublishResult(
            index=p.index, id=p.envelope.id, ok=False, code=code, message=message
        )
    return (list(prepared) if status >= 500 or status == 429 else []), results


def transport_failure(prepared: Sequence[Prepared], exc: httpx.HTTPError) -> Outcome:
    results = {
        p.index: PublishResult(
            index=p.index, id=p.envelope.id, ok=False, code=type(exc).__name__, message=str(exc)
        )
        for p in prepared
    }
    return list(prepared), results


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


class _Request:
    """One request's retry state: the events still to send and every result so far."""

    def __init__(self, pending: list[Prepared]) -> None:
        self.pending = pending
        self.results: dict[int, PublishResult] = {}

    def record(self, outcome: Outcome) -> list[Prepared]:
        self.pending, results = outcome
        self.results.update(results)
        return self.pending


def _requests(prepared: Sequence[Prepared], max_body_bytes: int) -> list[_Request]:
    """Consecutive runs of at most :data:`MAX_EVENTS_PER_REQUEST` events and ``max_body_bytes``."""
    requests: list[_Request] = []
    size = 0
    for item in prepared:
        item_size = entry_size(item.entry)
        if (
            not requests
            or len(requests[-1].pending) == MAX_EVENTS_PER_REQUEST
            or size + item_size > max_body_bytes
        ):
            requests.append(_Request([]))
            size = 0
        requests[-1].pending.append(item)
        size += item_size
    return requests


def _merged(requests: Sequence[_Request]) -> list[PublishResult]:
    results = {i: r for request in requests for i, r in request.results.items()}
    return [results[i] for i in sorted(results)]


class IngestTransport:
    """Sends prepared events to ingest over HTTP (an ``httpx.Client`` whose ``base_url`` is ingest's)."""

    def __init__(
        self,
        *,
        client: httpx.Client,
        max_attempts: int = 5,
        wait: wait_base | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.client = client
        self._max_body_bytes = max_body_bytes
        self._policy = retry_policy(max_attempts=max_attempts, wait=wait or default_wait())

    def send(self, prepared: Sequence[Prepared], *, trace: str) -> list[PublishResult]:
        requests = _requests(prepared, self._max_body_bytes)
        for request in requests:
            Retrying(**self._policy)(lambda r=request: r.record(self._post(r.pending, trace)))
        return _merged(requests)

    def _post(self, pending: list[Prepared], trace: str) -> Outcome:
        try:
            response = self.client.post(
                "/v1/events", json=request_body(pending), headers={TRACE_HEADER: trace}
            )
        except httpx.HTTPError as exc:
            return transport_failure(pending, exc)
        return sort_response(pending, response.status_code, _json(response))

    def close(self) -> None:
        self.client.close()


class AsyncIngestTransport:
    """:class:`IngestTransport` over an ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        max_attempts: int = 5,
        wait: wait_base | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.client = client
        self._max_body_bytes = max_body_bytes
        self._policy = retry_policy(max_attempts=max_attempts, wait=wait or default_wait())

    async def send(self, prepared: Sequence[Prepared], *, trace: str) -> list[PublishResult]:
        requests = _requests(prepared, self._max_body_bytes)
        for request in requests:
            await AsyncRetrying(**self._policy)(self._attempt, request, trace)
        return _merged(requests)

    async def _attempt(self, request: _Request, trace: str) -> list[Prepared]:
        try:
            response = await self.client.post(
                "/v1/events", json=request_body(request.pending), headers={TRACE_HEADER: trace}
            )
        except httpx.HTTPError as exc:
            return request.record(transport_failure(request.pending, exc))
        return request.record(sort_response(request.pending, response.status_code, _json(response)))

    async def close(self) -> None:
        await self.client.aclose()
