"""boto3 clients for a stack: the emulator's endpoint and its dummy credentials, or AWS itself.

Built only when asked (never at import time); the stack and the tests inject them into provisioning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
# LocalStack and MiniStack accept any key; "test" is the convention both document.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


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
