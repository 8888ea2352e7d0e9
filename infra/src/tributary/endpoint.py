"""An AWS endpoint the stack does not run: an emulator started elsewhere (``LOCALSTACK_ENDPOINT``, or the
target of ``tributary deploy``).

The docker-compose LocalStack, a MiniStack or LocalStack another tool started, a shared team emulator: the
stack provisions into it and runs its services against it, but never starts or stops it. The value is a URL
(``http://127.0.0.1:4566``) or, as LocalStack's own ``LOCALSTACK_HOST`` is written, ``host[:port]``; the
second form is read by the ``localstack-client`` package (port 4566 unless given, ``https`` when
``USE_SSL`` is set).

The emulator outlives the stack, and other stacks may share it: a stack on an endpoint gets a bus (and
so queue, rule and table names) of its own, and leaves what it provisioned in place when it stops.
"""

from __future__ import annotations

import os
import time

import httpx
import structlog
from botocore.exceptions import BotoCoreError, ClientError
from localstack_client.config import parse_localstack_host

from tributary.aws import emulator_client
from tributary.emulator import EmulatorError

log = structlog.get_logger(__name__)

ENDPOINT_ENV = "LOCALSTACK_ENDPOINT"
ANY_ENDPOINT = "endpoint"  # the name of an emulator whose kind is not known
HEALTH_PATHS = {"localstack": "/_localstack/health", "ministack": "/_ministack/health"}


def resolve_endpoint(value: str) -> str:
    """The endpoint URL ``value`` names (a URL, or ``host[:port]``).

    Raises:
        ValueError: ``value`` is empty or not a ``host:port``.
    """
    value = value.strip()
    if not value:
        raise ValueError(f"{ENDPOINT_ENV} is empty")
    if "://" in value:
        return value.rstrip("/")
    try:
        host, port = parse_localstack_host(value)
    except RuntimeError as exc:
        raise ValueError(f"{ENDPOINT_ENV}={value!r} is neither a URL nor host:port") from exc
    scheme = "https" if os.environ.get("USE_SSL", "").lower() in {"1", "true"} else "http"
    return f"{scheme}://{host}:{port}"


def endpoint_from_env() -> str | None:
    """``$LOCALSTACK_ENDPOINT`` resolved to a URL, or ``None`` when it is not set."""
    value = os.environ.get(ENDPOINT_ENV)
    return resolve_endpoint(value) if value else None


class EndpointEmulator:
    """An emulator at ``endpoint`` that something else runs: :meth:`start` only waits for it to answer,
    :meth:`stop` does nothing.

    Args:
        endpoint: a URL or ``host[:port]`` (see :func:`resolve_endpoint`).
        name: ``localstack`` or ``ministack`` when known (its health URL is then what :meth:`start` waits
            for), else ``endpoint`` (any AWS endpoint: an SQS call is).
        timeout_s: how long :meth:`start` waits for it to answer.

    Raises:
        ValueError: an unknown ``name``, or ``endpoint`` is neither a URL nor ``host:port``.
    """

    owned = False

    def __init__(self, endpoint: str, *, name: str = ANY_ENDPOINT, timeout_s: float = 30.0) -> None:
        if name != ANY_ENDPOINT and name not in HEALTH_PATHS:
            raise ValueError(f"unknown target {name!r} (known: {', '.join(HEALTH_PATHS)})")
        self.name = name
        self._endpoint = resolve_endpoint(endpoint)
        self._timeout_s = timeout_s

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def pid(self) -> int | None:
        return None  # not ours

    def start(self) -> None:
        """Wait until the emulator answers.

        Raises:
            EmulatorError: it did not answer within the timeout.
        """
        deadline = time.monotonic() + self._timeout_s
        while (silence := self._silence()) is not None:
            if time.monotonic() >= deadline:
                raise EmulatorError(
                    f"no {self.name} answering at {self._endpoint} ({silence}): is it running?"
                )
            time.sleep(0.5)
        log.info("endpoint_reached", emulator=self.name, endpoint=self._endpoint)

    def _silence(self) -> str | None:
        """Why the emulator does not answer yet (``None``: it does)."""
        if self.name in HEALTH_PATHS:
            try:
                response = httpx.get(self._endpoint + HEALTH_PATHS[self.name], timeout=2.0)
            except httpx.HTTPError as exc:
                return str(exc) or type(exc).__name__
            return None if response.status_code == 200 else f"HTTP {response.status_code}"
        try:
            emulator_client("sqs", self._endpoint, timeout_s=2.0, max_attempts=1).list_queues(MaxResults=1)
        except (BotoCoreError, ClientError) as exc:
            return str(exc) or type(exc).__name__
        return None

    def stop(self) -> None:
        """Leave the emulator running: it is not ours."""

    def track_bucket(self, bucket: str) -> None:
        """Nothing to clean up afterwards: the bucket stays in the emulator's state."""
