"""boto3 clients as every service builds them: bounded retries and timeouts, endpoint from the environment.

The endpoint comes from ``AWS_ENDPOINT_URL`` (botocore reads it), so the same code runs against an emulator
and AWS. Call only from a bootstrap: nothing here runs at import time.

:func:`client` is typed per service name (the boto3 stub packages, for mypy only), so a bootstrap that hands
an adapter the wrong client fails the type check, not the first call in production.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalServerError",
    }
)

if TYPE_CHECKING:
    from botocore.credentials import Credentials
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_timestream_query import TimestreamQueryClient
    from mypy_boto3_timestream_write import TimestreamWriteClient

    from shared.awsjson import JsonApi


@overload
def client(
    service_name: Literal["dynamodb"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> DynamoDBClient: ...
@overload
def client(
    service_name: Literal["events"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> EventBridgeClient: ...
@overload
def client(
    service_name: Literal["s3"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> S3Client: ...
@overload
def client(
    service_name: Literal["secretsmanager"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> SecretsManagerClient: ...
@overload
def client(
    service_name: Literal["sns"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> SNSClient: ...
@overload
def client(
    service_name: Literal["sqs"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> SQSClient: ...
@overload
def client(
    service_name: Literal["timestream-query"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> TimestreamQueryClient: ...
@overload
def client(
    service_name: Literal["timestream-write"], *, max_pool_connections: int = ..., max_attempts: int = ...
) -> TimestreamWriteClient: ...
def client(service_name: str, *, max_pool_connections: int = 20, max_attempts: int = 5) -> Any:
    """A boto3 client with standard-mode retries and short timeouts."""
    config = Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=max_pool_connections,
    )
    return _build(botocore.session.get_session(), service_name, config)


def _build(core: botocore.session.Session, service_name: str, config: Config) -> Any:
    built = boto3.session.Session(botocore_session=core).client(service_name, config=config)
    _forget_loaded_files(core)
    return built


def json_api(
    service_name: Literal["sqs", "events", "dynamodb"],
    *,
    max_pool_connections: int = 20,
    max_attempts: int = 5,
    like: Any = None,
) -> JsonApi:
    """The lean caller (:mod:`shared.awsjson`) of a JSON-protocol service, reaching the endpoint, region and
    credentials a boto3 client built here would (``AWS_ENDPOINT_URL``, the region and credentials chains):
    those of ``like``, a client of that service already built, else of one built for the purpose."""
    core = botocore.session.get_session()
    built = like if like is not None else _build(core, service_name, Config())
    credentials = core.get_credentials()  # the chain the client resolved (refreshable ones refresh)
    if credentials is None:
        raise RuntimeError(f"no AWS credentials found for {service_name}")
    return json_api_like(built, credentials, max_attempts=max_attempts, pool_size=max_pool_connections)


def lean_api(
    service_name: Literal["sqs", "events", "dynamodb"],
    *,
    enabled: bool,
    max_pool_connections: int = 20,
    like: Any = None,
) -> JsonApi | None:
    """:func:`json_api` when ``enabled`` (a service's ``aws_lean_calls`` setting), else ``None``: the
    adapter then makes every call through its boto3 client."""
    if not enabled:
        return None
    return json_api(service_name, max_pool_connections=max_pool_connections, like=like)


def json_api_like(
    built: Any, credentials: Credentials, *, max_attempts: int = 5, pool_size: int = 20
) -> JsonApi:
    """The lean caller of the API, endpoint and region of ``built`` (a boto3 client), signing with
    ``credentials``."""
    from shared.awsjson import JsonApi  # here: that module imports this one's codes

    meta = built.meta.service_model.metadata
    return JsonApi(
        endpoint=built.meta.endpoint_url,
        region=built.meta.region_name,
        signing_name=meta.get("signingName", meta["endpointPrefix"]),
        target_prefix=meta["targetPrefix"],
        json_version=meta["jsonVersion"],
        credentials=credentials,
        max_attempts=max_attempts,
        pool_size=pool_size,
    )


def _forget_loaded_files(core: botocore.session.Session) -> None:
    """Drop the parsed data files the session's loader cached while it built a client.

    Building a client parses botocore's endpoint table (``endpoints.json``: ~7 MB of dicts once parsed) for
    a resolver it then discards, but the loader caches every file it parsed, and the client keeps the loader
    (to load paginators and waiters when asked), so the table would live as long as the client: 7 MB per
    client in every process. What the client uses (its service model, endpoint rules, partitions) it holds
    itself; anything it loads later is read again from disk.
    """
    cache = getattr(core.get_component("data_loader"), "_cache", None)  # botocore's ``instance_cache``
    if isinstance(cache, dict):
        cache.clear()


def service_unavailable(exc: BaseException) -> bool:
    """Whether a botocore error says the service is out (throttling, 5xx, no connection, timeouts) rather
    than that it refused the request: adapters raise :class:`~shared.errors.StoreUnavailable` for these."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or exc.response.get("Error", {}).get("Code") in THROTTLING_CODES
    return isinstance(exc, BotoCoreError)
