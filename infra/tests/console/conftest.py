"""Fixtures for the console: moto's AWS (the operators' fixtures), a provisioned stack's description, and
fake HTTP endpoints for the services' ``/metrics`` and the read APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest

from infra.tests.operators.conftest import aws, sqs  # noqa: F401  (fixtures)
from shared.manifest import ServiceManifest, Subscription
from tributary.console.source import StackSource
from tributary.provision import provision

MANIFESTS = [
    ServiceManifest(name="ingest", http=True, url_key="ingest_url"),
    ServiceManifest(name="archiver", consumes=(Subscription(type="*"),)),
    ServiceManifest(name="probe", consumes=(Subscription(type="sensor.reading", versions=(1,)),)),
]
Handler = Callable[[httpx.Request], httpx.Response]


class FakeHttp:
    """Routes requests by host to a handler each (a service, a read API); an unknown host is down."""

    def __init__(self) -> None:
        self.hosts: dict[str, Handler] = {}
        self.client = httpx.Client(transport=httpx.MockTransport(self._route))

    def _route(self, request: httpx.Request) -> httpx.Response:
        handler = self.hosts.get(request.url.host)
        if handler is None:
            raise httpx.ConnectError("connection refused", request=request)
        return handler(request)


def metrics_page(lines: dict[str, float]) -> Handler:
    """A ``/metrics`` handler serving ``lines`` (``name{labels}`` → value) as Prometheus text; mutable."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/metrics":
            return httpx.Response(404)
        text = "".join(f"{k} {v}\n" for k, v in lines.items())
        return httpx.Response(200, text=text)

    return handle


@pytest.fixture
def description(aws: None) -> dict[str, Any]:  # noqa: F811
    """A stack as ``stack.json`` describes it: queues provisioned in moto, services at fake hosts."""
    clients = {name: boto3.client(name, region_name="us-east-1") for name in ("sqs", "events", "s3", "sns")}
    topology = provision(**clients, bucket="archive", bus_name="tributary", manifests=MANIFESTS)
    services = {
        name: {"url": f"http://{name}.test", "urls": [f"http://{name}.test"], "pids": [1]}
        for name in ("ingest", "archiver", "probe")
    }
    return {
        "emulator": "moto",
        "aws_endpoint": None,
        "region": "us-east-1",
        "bus_name": "tributary",
        "bucket": "archive",
        "ingest_url": "http://ingest.test",
        "queues": {n: {"url": q.url, "dlq_url": q.dlq_url} for n, q in topology.queues.items()},
        "services": services,
        "data_dir": "/somewhere/else/.tributary",
    }


@pytest.fixture
def http() -> FakeHttp:
    return FakeHttp()


@pytest.fixture
def source(description: dict[str, Any], http: FakeHttp) -> StackSource:
    return StackSource(lambda: description, http=http.client, manifests=MANIFESTS)
