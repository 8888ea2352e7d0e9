"""The HTTP API: ``POST /v1/events``, ``GET /healthz``, ``GET /metrics``, OpenAPI at ``/docs``.

Status codes: 202 when every valid event is on the bus (the body lists accepted and rejected events);
503 when some valid events could not be put on the bus (they are listed as rejected with
``retryable: true`` and their ids, so a producer can resend exactly those); 400 malformed JSON; 413 body
over the limit; 415 not JSON; 422 a body that is not ``{"events": [...]}``.

With a tracer, each request is a segment continuing the incoming ``X-Amzn-Trace-Id`` (or a new trace), its
envelopes carry the header onwards, and the answer names the trace in ``X-Amzn-Trace-Id``. The segment is
held in a context variable, so concurrent requests never see each other's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contracts import EventIn
from ingest.domain import FieldError, Limits, Rejection, RequestShapeError, events_of, validate_events
from ingest.metrics import IngestMetrics
from ingest.ports import EventPublisher
from shared.metrics import Registry
from shared.runner import add_metrics_route
from shared.tracing import Span, Tracer, continue_or_start

log = structlog.get_logger()


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


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


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
) -> FastAPI:
    """The ingest API over ``publisher``, traced by ``tracer`` and counted in ``registry`` when given."""
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
        responses={400: {}, 413: {}, 415: {}, 422: {}, 503: {"model": PublishResponse}},
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

    async def receive(request: Request, span: Span | None) -> tuple[JSONResponse, int, int, int]:
        """The answer to one request, and its accepted, rejected and bus-failed event counts."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _error(415, "unsupported_media_type", "send the events as application/json"), 0, 0, 0
        try:
            body = await _read_limited(request, max_body_bytes)
        except BodyTooLarge:
            return _error(413, "body_too_large", f"request body is over {max_body_bytes} bytes"), 0, 0, 0
        try:
            doc = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: too deep
            return _error(400, "malformed_json", f"body is not valid JSON: {exc}"), 0, 0, 0
        try:
            raw = events_of(doc, limits)
        except RequestShapeError as exc:
            return _error(422, "invalid_request", str(exc)), 0, 0, 0
        trace = span.header() if span else continue_or_start(request.headers.get("x-amzn-trace-id"))
        validated = validate_events(raw, now=clock(), trace=trace, limits=limits)
        envelopes = [e for _, e in validated.accepted]
        failures = await run_in_threadpool(publisher.publish, envelopes) if envelopes else []
        failed = {f.index: f for f in failures}
        accepted = [
            {"index": index, "id": e.id} for n, (index, e) in enumerate(validated.accepted) if n not in failed
        ]
        rejected = list(validated.rejected)
        for n, failure in failed.items():
            index, envelope = validated.accepted[n]
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
        rejected.sort(key=lambda r: r.index)
        retry_later = any(f.retryable for f in failures)
        response = JSONResponse(
            {"accepted": accepted, "rejected": [asdict(r) for r in rejected]},
            status_code=503 if retry_later else 202,
            headers={"Retry-After": "1"} if retry_later else None,
        )
        return response, len(accepted), len(rejected), len(failures)

    return app
