"""The container health check: the process's own ``/healthz`` (every Tributary process serves one)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs

HTTP_PORT = 8080
_PROBE = (
    "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz'"
    " % os.environ.get('TRIBUTARY_HTTP_PORT', '8080'), timeout=3)"
)


def health_check() -> ecs.HealthCheck:
    """Probe ``/healthz`` from inside the container (python is all the slim image needs)."""
    return ecs.HealthCheck(
        command=["CMD", "python", "-c", _PROBE],
        interval=cdk.Duration.seconds(30),
        timeout=cdk.Duration.seconds(5),
        retries=3,
        start_period=cdk.Duration.seconds(60),
    )
