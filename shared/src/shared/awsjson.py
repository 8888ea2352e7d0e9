"""A lean caller of AWS JSON-protocol APIs, for the calls made per event: SQS, PutEvents, DynamoDB claims.

botocore spends about 1 ms of CPU on every call, whatever its size: event hooks, a user-agent string
rebuilt per request, model-driven validation, serialization and parsing. A worker makes 0.2 queue calls per
event (a receive and a delete per ten messages) and ingest 0.1 PutEvents calls, so botocore alone cost each
~0.1-0.2 ms of CPU per event. :class:`JsonApi` builds the JSON body itself, signs it (:class:`SigV4`, held
to botocore's signatures by the tests) with botocore's credentials chain, and sends it on a urllib3 pool:
a fraction of the CPU per call (``bench/wire_bench.py``). Callers keep their boto3 code: the parameters
and answers are the API's own fields, exactly what a boto3 low-level client takes and returns.

Errors are botocore's, so an adapter handles them as it handles a boto3 client's: a refusal raises
``ClientError`` with the code, the message and the error's other fields (``CancellationReasons``) as botocore
parses them, and a transport failure raises ``HTTPClientError`` (a ``BotoCoreError``). Retries are as
botocore's standard mode: throttling codes, 5xx answers and transport failures are tried again, up to
``max_attempts`` tries with capped exponential backoff and full jitter.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3
from botocore import xform_name
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import ClientError, HTTPClientError

from shared.aws import THROTTLING_CODES

_BACKOFF_CAP_S = 20.0


class AwsCaller(Protocol):
    """What adapters call AWS through: an operation as the API spells it (``PutItem``) with its own fields."""

    def call(self, operation: str, params: dict[str, Any], *, read_timeout_s: float | None = None) -> Any: ...


class BotoCaller:
    """A boto3 low-level client behind :class:`JsonApi`'s ``call``, for adapters given a client (moto's
    in-process AWS in tests, ``TRIBUTARY_AWS_LEAN_CALLS=false``); the client's own read timeout applies."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def call(self, operation: str, params: dict[str, Any], *, read_timeout_s: float | None = None) -> Any:
        return getattr(self._client, xform_name(operation))(**params)


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
        url = urlsplit(self.endpoint)
        if url.path != "/" or url.query:
            raise ValueError(f"a JSON-protocol endpoint is a root URL, not {endpoint!r}")
        self._host = url.netloc
        self._signer = SigV4(region=region, service=signing_name)
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
            botocore.exceptions.ClientError: the service refused the call, or still failed on the last try.
            botocore.exceptions.HTTPClientError: no answer came, on the last try.
        """
        body = json.dumps(params, separators=(",", ":")).encode()
        read_s = read_timeout_s or self._read_timeout_s
        timeout = urllib3.Timeout(connect=self._connect_timeout_s, read=read_s)
        for attempt in range(1, self._max_attempts + 1):
            try:
                return self._once(operation, body, timeout)
            except (ClientError, HTTPClientError) as exc:
                if not _retryable(exc) or attempt == self._max_attempts:
                    raise
            self._sleep(random.uniform(0, min(_BACKOFF_CAP_S, 2.0**attempt)))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, operation: str, body: bytes, timeout: urllib3.Timeout) -> Any:
        headers = {
            "content-type": self._content_type,
            "host": self._host,
            "x-amz-target": f"{self._target_prefix}.{operation}",
        }
        self._signer.sign(headers, body, self._credentials.get_frozen_credentials())
        try:
            response = self._pool.request("POST", self.endpoint, body=body, headers=headers, timeout=timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise HTTPClientError(error=type(exc).__name__) from exc
        if response.status == 200:
            return json.loads(response.data) if response.data else {}
        error = _error_of(response.status, response.data, response.headers.get("x-amzn-query-error"))
        raise ClientError(error, operation)  # type: ignore[arg-type]  # botocore's shape, typed more narrowly


class SigV4:
    """AWS Signature Version 4 for a POST of a body to an API's root URL: the ``Authorization``,
    ``X-Amz-Date`` and (with temporary credentials) ``X-Amz-Security-Token`` headers.

    botocore's signer is general (any method, path, query and header set) and spends about a tenth of a
    worker's CPU on it; this one signs the headers it is given (lower-case names, all of them signed), derives
    the day's signing key once per day and key, and is held to botocore's signatures by the tests.
    """

    def __init__(self, *, region: str, service: str, clock: Callable[[], datetime] | None = None) -> None:
        self._region = region
        self._service = service
        self._clock = clock or (lambda: datetime.now(UTC))
        self._keys: dict[tuple[str, str], bytes] = {}

    def sign(self, headers: dict[str, str], body: bytes, credentials: ReadOnlyCredentials) -> None:
        """Add the signature headers to ``headers`` (lower-case names; ``host`` among them)."""
        stamp = self._clock().strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        headers["x-amz-date"] = stamp
        if credentials.token:
            headers["x-amz-security-token"] = credentials.token
        names = sorted(headers)
        signed = ";".join(names)
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in names),
                signed,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = self._key(day, credentials.secret_key or "")
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )

    def _key(self, day: str, secret: str) -> bytes:
        cached = self._keys.get((day, secret))
        if cached is None:
            key = f"AWS4{secret}".encode()
            for part in (day, self._region, self._service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys = {(day, secret): key}  # yesterday's and a rotated secret's keys are dropped
            cached = key
        return cached


def _retryable(exc: ClientError | HTTPClientError) -> bool:
    """Throttled, a server fault or no answer: worth another try."""
    if isinstance(exc, HTTPClientError):
        return True
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return status >= 500 or exc.response.get("Error", {}).get("Code") in THROTTLING_CODES


def _error_of(status: int, data: bytes, query_error: str | None) -> dict[str, Any]:
    """The error an answer carries, shaped as botocore parses it: ``Error`` (``Code`` from ``__type``'s
    ``prefix#Code`` or the query-error header, ``Message``), the body's other fields, the HTTP status."""
    try:
        doc = json.loads(data) if data else {}
    except ValueError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    code = str(doc.pop("__type", "") or doc.pop("code", "") or "").rsplit("#", 1)[-1]
    message = str(doc.pop("message", "") or doc.pop("Message", "") or "")[:300]
    if query_error:
        code = query_error.split(";", 1)[0] or code
    return doc | {
        "Error": {"Code": code or str(status), "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
