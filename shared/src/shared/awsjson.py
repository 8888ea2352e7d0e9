"""A lean caller of AWS JSON-protocol APIs, for the calls a worker makes per event (SQS receive and delete).

botocore spends about 1.2 ms of CPU on every call, whatever its size: event hooks, a user-agent string
rebuilt per request, model-driven validation, serialization and parsing. A worker makes 0.2 queue calls per
event (a receive and a delete per ten messages), so botocore alone cost each worker ~0.24 ms of CPU per
event. :class:`JsonApi` builds the JSON body itself, signs it with botocore's SigV4 signer and the same
credentials chain, and sends it on a urllib3 pool: a fraction of the CPU per call (``bench/wire_bench.py``).

It retries as botocore's standard mode does: throttling codes, 5xx answers and connection errors, up to
``max_attempts`` tries with capped exponential backoff and full jitter; anything else raises
:class:`AwsJsonError` at once, with the service's error code.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from shared.aws import THROTTLING_CODES

_BACKOFF_CAP_S = 20.0


class AwsJsonError(Exception):
    """A call the service refused, or that kept failing: ``code`` is the service's error code (or the
    transport error's type), ``status`` the HTTP status (0 when no answer came)."""

    def __init__(self, code: str, message: str, *, status: int) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.status = status

    @property
    def retryable(self) -> bool:
        """Throttled, a server fault or no answer: worth another try."""
        return self.status == 0 or self.status >= 500 or self.code in THROTTLING_CODES


class JsonApi:
    """One AWS service's JSON-protocol API at ``endpoint``, signed for ``signing_name`` in ``region``.

    ``credentials`` is botocore's (refreshable ones refresh themselves); ``sleep`` waits between tries
    (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        endpoint: str,
        region: str,
        signing_name: str,
        target_prefix: str,
        json_version: str,
        credentials: Credentials,
        max_attempts: int = 5,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        pool_size: int = 20,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self._region = region
        self._signing_name = signing_name
        self._target_prefix = target_prefix
        self._content_type = f"application/x-amz-json-{json_version}"
        self._credentials = credentials
        self._max_attempts = max_attempts
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._sleep = sleep
        self._pool = urllib3.PoolManager(maxsize=pool_size, block=False, retries=False)

    def call(self, operation: str, params: dict[str, Any], *, read_timeout_s: float | None = None) -> Any:
        """``operation`` with ``params`` (the API's own field names); its JSON answer.

        Raises:
            AwsJsonError: if the service refused the call, or it still failed after ``max_attempts`` tries.
        """
        body = json.dumps(params, separators=(",", ":")).encode()
        read_s = read_timeout_s or self._read_timeout_s
        timeout = urllib3.Timeout(connect=self._connect_timeout_s, read=read_s)
        for attempt in range(1, self._max_attempts + 1):
            try:
                return self._once(operation, body, timeout)
            except AwsJsonError as exc:
                if not exc.retryable or attempt == self._max_attempts:
                    raise
            self._sleep(random.uniform(0, min(_BACKOFF_CAP_S, 2.0**attempt)))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, operation: str, body: bytes, timeout: urllib3.Timeout) -> Any:
        target = f"{self._target_prefix}.{operation}"
        request = AWSRequest(
            method="POST",
            url=self.endpoint,
            data=body,
            headers={"Content-Type": self._content_type, "X-Amz-Target": target},
        )
        frozen = self._credentials.get_frozen_credentials()
        SigV4Auth(frozen, self._signing_name, self._region).add_auth(request)
        try:
            response = self._pool.request(
                "POST", self.endpoint, body=body, headers=dict(request.headers.items()), timeout=timeout
            )
        except urllib3.exceptions.HTTPError as exc:
            raise AwsJsonError(type(exc).__name__, "", status=0) from exc
        if response.status == 200:
            return json.loads(response.data) if response.data else {}
        raise _error_of(response.status, response.data, response.headers.get("x-amzn-query-error"))


def _error_of(status: int, data: bytes, query_error: str | None) -> AwsJsonError:
    """The error an answer carries: ``__type`` (``prefix#Code``) in its JSON, or the query-error header."""
    code, message = "", ""
    try:
        doc = json.loads(data) if data else {}
    except ValueError:
        doc = {}
    if isinstance(doc, dict):
        code = str(doc.get("__type") or doc.get("code") or "").rsplit("#", 1)[-1]
        message = str(doc.get("message") or doc.get("Message") or "")[:300]
    if query_error:
        code = query_error.split(";", 1)[0] or code
    return AwsJsonError(code or f"HTTP{status}", message, status=status)
