"""Secrets Manager adapter of :class:`~notifier.ports.SecretReader`: webhook signing secrets by ARN."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from notifier.ports import SecretUnavailable


class SecretsManagerReader:
    """Reads ``SecretString`` of a secret through an injected boto3 ``secretsmanager`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __call__(self, arn: str) -> str:
        try:
            value = self._client.get_secret_value(SecretId=arn)
        except ClientError as exc:
            raise SecretUnavailable(f"cannot read {arn}: {exc.response['Error']['Code']}") from exc
        except BotoCoreError as exc:
            raise SecretUnavailable(f"cannot read {arn}: {type(exc).__name__}") from exc
        secret = value.get("SecretString")
        if not secret:
            raise SecretUnavailable(f"{arn} holds no SecretString")
        return str(secret)
