"""The console's HTTP face: the page (``/``, ``/static/…``) and the JSON it polls under ``/api``.

- ``GET /api/stack``: what the stack is (emulator, region, bus, which read APIs it has).
- ``GET /api/topology``: the hops with their live numbers (:mod:`tributary.console.topology`).
- ``GET /api/dead-letters``: recent letters per DLQ with reasons and redrive commands.
- ``GET /api/series?metric=&bucket=&agg=&from=&to=&<dimension>=``: a series from the series API.
- ``GET /api/graph?node=&depth=1..3&rel=&limit=``: a node's neighbourhood from the graph API, with edges.
- ``GET /api/alerts?limit=``: the notifier's latest alerts.
- ``GET /api/trace/{event_id}``: the event's hops from the collected segments
  (:func:`tributary.operators.trace.timeline`).

A stack that stopped (its description is gone) answers 503; the AWS endpoint or a read API failing, 502;
what the page sends wrong, a 4xx naming it. No answer carries a message body. Only requests naming the
console by a loopback host are answered (400 otherwise), so a web page elsewhere cannot read it through a
rebound DNS name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from tributary.console import letters, readapis
from tributary.console.source import StackSource
from tributary.console.topology import TopologyView
from tributary.operators.trace import TraceNotFound, load_segments, timeline
from tributary.stack import StackError

STATIC = Path(__file__).parent / "static"
EVENT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
NODE_ID = r"^[a-z_]+:.{1,150}$"
READ_APIS = ("ingest_url", "graph_url", "series_url", "notifier_url")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def create_app(source: StackSource, *, allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> FastAPI:
    """The console over ``source``, answering requests whose ``Host`` is one of ``allowed_hosts``."""
    app = FastAPI(title="Tributary console", docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    view = TopologyView(source)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(StackError)
    def stack_gone(_request: Request, exc: StackError) -> JSONResponse:
        return JSONResponse({"detail": f"the stack is not running: {exc}"}, status_code=503)

    @app.exception_handler(ClientError)
    def aws_refused(_request: Request, exc: ClientError) -> JSONResponse:
        code = exc.response.get("Error", {}).get("Code", "error")
        return JSONResponse({"detail": f"the AWS endpoint refused a call: {code}"}, status_code=502)

    @app.exception_handler(BotoCoreError)
    def aws_unreachable(_request: Request, exc: BotoCoreError) -> JSONResponse:
        return JSONResponse({"detail": f"the AWS endpoint failed: {type(exc).__name__}"}, status_code=502)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api/stack")
    def stack() -> dict[str, Any]:
        info = source.description()
        return {
            "where": source.target(info).where,
            "emulator": info.get("emulator"),
            "region": info.get("region"),
            "bus_name": info.get("bus_name"),
            "apis": {key: bool(info.get(key)) for key in READ_APIS},
            "traces": bool(info.get("traces")),
            "services": sorted(info.get("services") or {}),
        }

    @app.get("/api/topology")
    def topology() -> dict[str, Any]:
        return view.snapshot()

    @app.get("/api/dead-letters")
    def dead_letters(per_queue: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
        return letters.recent_letters(source, per_queue=per_queue)

    @app.get("/api/series")
    def series(request: Request) -> JSONResponse:
        status, body = readapis.series(source, list(request.query_params.multi_items()))
        return JSONResponse(body, status_code=status)

    @app.get("/api/graph")
    def graph(
        node: Annotated[str, Query(pattern=NODE_ID, description="e.g. device:dev-0042")],
        depth: Annotated[int, Query(ge=1, le=3)] = 1,
        rel: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 60,
    ) -> JSONResponse:
        status, body = readapis.neighbourhood(source, node, depth=depth, rel=rel or None, limit=limit)
        return JSONResponse(body, status_code=status)

    @app.get("/api/alerts")
    def latest_alerts(limit: Annotated[int, Query(ge=1, le=100)] = 12) -> JSONResponse:
        status, body = readapis.alerts(source, limit=limit)
        return JSONResponse(body, status_code=status)

    @app.get("/api/trace/{event_id}")
    def trace(event_id: Annotated[str, PathParam(pattern=EVENT_ID)]) -> dict[str, Any]:
        traces = source.description().get("traces")
        if not traces:
            raise HTTPException(404, "this stack collects no traces here (on AWS: the X-Ray console)")
        try:
            hops = timeline(load_segments(Path(traces)), event_id)
        except StackError as exc:  # the collector has written nothing yet
            raise HTTPException(404, "no trace segment collected yet") from exc
        except TraceNotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        return {"event_id": event_id, "hops": [asdict(h) for h in hops]}

    return app
