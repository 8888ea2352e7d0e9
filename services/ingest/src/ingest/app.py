"""The HTTP API: ``POST /v1/events``, ``GET /healthz``, ``GET /metrics``, OpenAPI at ``/docs``.

Status codes: 202 when every valid event is on the bus (the body lists accepted and rejected events);
503 when some valid events could not be put on the bus (they are listed as rejected with
``retryable: true`` and their ids, so a producer can resend exactly those); 400 malformed JSON or JSON over
the parser's limits; 401 no or an unknown API key; 403 events the producer may not publish (listed; none
is published); 408 a body not sent in time; 413 body over the limit; 415 not JSON; 422 a body that is not
``{"events": [...]}``; 429 the producer's rate limit (``Retry-After``).

The body is read under a deadline, parsed and validated in worker threads (the event loop keeps answering
``/healthz`` meanwhile), and error lists are capped: the first ``Limits.max_errors_per_event`` errors of an
event, ``Limits.max_errors`` in all, locations and messages cut to a length. No answer echoes an input
value or the API key.

With a tracer, each request is a segment continuing the incoming ``X-Amzn-Trace-Id`` (or a new trace), its
envelopes carry the header onwards, and the answer names the trace in ``X-Amzn-Trace-Id``. The segment is
held in a context variable, so concurrent requests never see each other's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contracts import EventIn
from ingest.auth import Authenticator, AuthFailure, Principal, forbidden
from ingest.domain import (
    FieldError,
    Limits,
    Rejection,
    RequestShapeError,
    Validated,
    capped,
    events_of,
    validate_events,
)
from ingest.metrics import IngestMetrics
from ingest.ports import EventPublisher
from ingest.ratelimit import RateLimiter, retry_after
from shared.boundedjson import JsonLimits, loads
from shared.errors import ContractError, RetryableError
from shared.metrics import Registry
from shared.runner import add_metrics_route
from shared.tracing import Span, Tracer, continue_or_start

log = structlog.get_logger()

DEFAULT_JSON_LIMITS = JsonLimits(max_depth=32, max_keys=1000, max_number_chars=40)
"""What a request body may hold unless ``create_app`` is told otherwise (the settings' defaults)."""


class FieldErrorOut(BaseModel):
    loc: str
    msg: str


class AcceptedOut(BaseModel):
    index: int
    id: str


class RejectedOut(BaseModel):
    index: int
    errors: list[FieldErrorOut]
    id: str | None = None
    retryable: bool = False


class PublishResponse(BaseModel):
    accepted: list[AcceptedOut]
    rejected: list[RejectedOut]


class PublishRequest(BaseModel):
    events: list[EventIn]


def _request_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """``PublishRequest``'s JSON Schema, and the schemas it refers to (for the OpenAPI components).

    Its ``$ref``s point into ``#/components/schemas``: a ``#/$defs/...`` ref would resolve against the whole
    OpenAPI document, where there is no ``$defs``.
    """
    schema = PublishRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    return schema, schema.pop("$defs", {})


def _error(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers
    )


CLOSE = {"Connection": "close"}
"""For answers given before the body was read: the connection closes rather than drain the rest of it."""

Answer = tuple[JSONResponse, int, int, int]
"""A response, and the request's accepted, rejected and bus-failed event counts."""


def _refused(status: int, code: str, message: str, **kwargs: Any) -> Answer:
    """The answer to a request refused whole: nothing accepted, rejected or sent to the bus."""
    return _error(status, code, message, **kwargs), 0, 0, 0


class BodyTooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for part in request.stream():
        body.extend(part)
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def create_app(
    *,
    publisher: EventPublisher,
    limits: Limits,
    max_body_bytes: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    tracer: Tracer | None = None,
    registry: Registry | None = None,
    authenticator: Authenticator | None = None,
    rate_limiter: RateLimiter | None = None,
    json_limits: JsonLimits | None = None,
    body_timeout_s: float = 30.0,
) -> FastAPI:
    """The ingest API over ``publisher``, traced by ``tracer`` and counted in ``registry`` when given.

    ``authenticator``: who may publish what (``None``: anyone anything, for a deployment that authenticates
    in front of ingest); ``rate_limiter``: events per second per producer (``None``: no limit);
    ``json_limits``: what a body may hold (its size is ``max_body_bytes``, checked as the body streams in);
    ``body_timeout_s``: how long a client may take to send its body.
    """
    parse_limits = replace(json_limits or DEFAULT_JSON_LIMITS, max_bytes=max_body_bytes)
    metrics = IngestMetrics(registry) if registry else None
    app = FastAPI(title="Tributary ingest", version="1", summary="Publish events onto the Tributary bus.")
    request_schema, request_defs = _request_schema()
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        doc = default_openapi()
        doc.setdefault("components", {}).setdefault("schemas", {}).update(request_defs)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "service": "ingest"}

    if registry:
        add_metrics_route(app, registry.exposition)

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=PublishResponse,
        responses={
            400: {},
            401: {},
            403: {},
            408: {},
            413: {},
            415: {},
            422: {},
            429: {},
            503: {"model": PublishResponse},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": request_schema}},
            }
        },
    )
    async def publish(request: Request) -> JSONResponse:
        """Validate up to ``limits.max_events`` events and put the valid ones on the bus."""
        started = time.perf_counter()
        incoming = request.headers.get("x-amzn-trace-id")
        with tracer.segment(incoming) if tracer else nullcontext() as span:
            response, accepted, rejected, bus_failures = await receive(request, span)
            if span:
                span.annotate(status=response.status_code, accepted=accepted, rejected=rejected)
                response.headers["X-Amzn-Trace-Id"] = span.header()
        fields = (
            metrics.request(
                status=response.status_code,
                accepted=accepted,
                rejected=rejected,
                bus_failures=bus_failures,
                seconds=time.perf_counter() - started,
            )
            if metrics
            else {}
        )
        log.info(
            "events_received",
            status=response.status_code,
            accepted=accepted,
            rejected=rejected,
            bus_failures=bus_failures,
            **fields,
        )
        return response

    async def receive(request: Request, span: Span | None) -> Answer:
        """The answer to one request."""
        principal: Principal | None = None
        if authenticator is not None:
            try:
                who = await run_in_threadpool(authenticator.authenticate, request.headers)
            except RetryableError:
                log.warning("credential_store_unavailable")
                return _refused(
                    503,
                    "unavailable",
                    "the credential store is unavailable",
                    headers=CLOSE | {"Retry-After": "5"},
                )
            if isinstance(who, AuthFailure):
                return _refused(
                    who.status, who.code, who.message, headers=CLOSE | {"WWW-Authenticate": "Bearer"}
                )
            principal = who
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _refused(
                415, "unsupported_media_type", "send the events as application/json", headers=CLOSE
            )
        try:
            async with asyncio.timeout(body_timeout_s):
                body = await _read_limited(request, max_body_bytes)
        except BodyTooLarge:
            message = f"request body is over {max_body_bytes} bytes"
            return _refused(413, "body_too_large", message, headers=CLOSE)
        except TimeoutError:
            message = f"the body was not sent within {body_timeout_s:g} s"
            return _refused(408, "body_timeout", message, headers=CLOSE)
        try:
            doc = await run_in_threadpool(loads, body, limits=parse_limits)
        except ContractError as exc:
            return _refused(400, "malformed_json", str(exc))
        try:
            raw = events_of(doc, limits)
        except RequestShapeError as exc:
            return _refused(422, "invalid_request", str(exc))
        if principal is not None and rate_limiter is not None:
            wait_s = rate_limiter.take(principal.id, len(raw))
            if wait_s:
                message = f"producer {principal.id} is over its rate limit; retry later"
                return _refused(429, "rate_limited", message, headers={"Retry-After": retry_after(wait_s)})
        trace = span.header() if span else continue_or_start(request.headers.get("x-amzn-trace-id"))
        validated = await run_in_threadpool(validate_events, raw, now=clock(), trace=trace, limits=limits)
        if principal is not None:
            refused = forbidden(principal, validated.accepted, max_listed=limits.max_errors)
            if refused:
                message = f"producer {principal.id} may not publish some of these events; none was published"
                return _refused(403, "forbidden", message, events=refused)
        return await publish_validated(validated)

    async def publish_validated(validated: Validated) -> Answer:
        valid, invalid = validated.accepted, validated.rejected
        envelopes = [e for _, e in valid]
        failures = await run_in_threadpool(publisher.publish, envelopes) if envelopes else []
        failed = {f.index: f for f in failures}
        accepted: list[dict[str, Any]] = [
            {"index": index, "id": e.id} for n, (index, e) in enumerate(valid) if n not in failed
        ]
        rejected = list(invalid)
        for n, failure in failed.items():
            index, envelope = valid[n]
            rejected.append(
                Rejection(
                    index=index,
                    id=envelope.id,
                    retryable=failure.retryable,
                    errors=[
                        FieldError("", f"the bus did not take the event ({failure.code}): {failure.message}")
                    ],
                )
            )
        for index, first in validated.repeats.items():  # the same event twice: the first one's outcome
            accepted += [a | {"index": index} for a in accepted if a["index"] == first]
            rejected += [replace(r, index=index) for r in rejected if r.index == first]
        accepted.sort(key=lambda a: a["index"])
        rejected.sort(key=lambda r: r.index)
        retry_later = any(f.retryable for f in failures)
        response = JSONResponse(
            {"accepted": accepted, "rejected": [asdict(r) for r in capped(rejected, limits)]},
            status_code=503 if retry_later else 202,
            headers={"Retry-After": "1"} if retry_later else None,
        )
        return response, len(accepted), len(rejected), len(failures)

    return app
