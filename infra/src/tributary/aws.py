"""boto3 clients for the local stack: the emulator's endpoint, its dummy credentials, bounded retries.

Built only when asked (never at import time); the stack and the tests inject them into provisioning.
"""

from __future__ import annotations

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
