"""boto3 clients for a stack: the emulator's endpoint and its dummy credentials, or AWS itself.

Built only when asked (never at import time); the stack and the tests inject them into provisioning.
:class:`ClientFactory` is what every client accessor of the CLI returns (``Stack.client``, ``Target.client``,
``StackClient.aws``): called with a service name it gives that service's client, typed by the boto3 stub
packages (for mypy only), so ``target.client("sqs")`` is checked as an ``SQSClient``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

REGION = "us-east-1"
# LocalStack and MiniStack accept any key; "test" is the convention both document.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


class ClientFactory(Protocol):
    """A boto3 client for a service name, typed per service (untyped for a service without stubs)."""

    @overload
    def __call__(self, service: Literal["athena"]) -> AthenaClient: ...
    @overload
    def __call__(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def __call__(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def __call__(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def __call__(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def __call__(self, service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
    @overload
    def __call__(self, service: Literal["sns"]) -> SNSClient: ...
    @overload
    def __call__(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def __call__(self, service: Literal["ssm"]) -> SSMClient: ...
    @overload
    def __call__(self, service: str) -> Any: ...


def emulator_client(
    service: str, endpoint: str, *, region: str = REGION, timeout_s: float = 30.0, max_attempts: int = 3
) -> Any:
    """A boto3 client for ``service`` at the emulator ``endpoint``."""
    config = Config(
        connect_timeout=min(timeout_s, 5.0),
        read_timeout=timeout_s,
        retries={"mode": "standard", "max_attempts": max_attempts},
    )
    session = boto3.session.Session(region_name=region, **EMULATOR_CREDENTIALS)
    return session.client(service, endpoint_url=endpoint, config=config)


def stack_client(service: str, endpoint: str | None, *, region: str = REGION, timeout_s: float = 30.0) -> Any:
    """A client for a stack's ``service``: on its emulator at ``endpoint``, or on AWS when that is
    ``None`` (credentials from the standard chain: environment, profile, SSO, role)."""
    if endpoint is not None:
        return emulator_client(service, endpoint, region=region, timeout_s=timeout_s)
    config = Config(
        connect_timeout=min(timeout_s, 5.0),
        read_timeout=timeout_s,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return boto3.session.Session(region_name=region).client(service, config=config)


# Where the standard chain finds credentials without a network call (no instance metadata lookup).
_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


def credentials_available() -> bool:
    """AWS credentials are configured: a variable of the standard chain, or a shared credentials file.

    Looks only at the environment and the file system, so it never calls AWS (nor instance metadata).
    """
    if any(os.environ.get(name) for name in _CREDENTIAL_VARIABLES):
        return True
    shared = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials"
    return Path(shared).is_file()
