"""Where the producer credential document lives: a file locally, a Secrets Manager secret on AWS.

:func:`credential_store` picks one from a location string (``TRIBUTARY_AUTH_STORE``): a path, or
``secretsmanager:<secret name or ARN>``. Both read and write the document of :mod:`shared.credentials`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from shared.credentials import CredentialDocument
from shared.errors import RetryableError

SECRETS_MANAGER = "secretsmanager:"


class CredentialStore(Protocol):
    """Loads and saves the credential document. ``load`` of a store never written is an empty document.

    Raises :class:`~shared.errors.RetryableError` when the store cannot be reached.
    """

    def load(self) -> CredentialDocument: ...

    def save(self, document: CredentialDocument) -> None: ...


class FileCredentialStore:
    """A JSON file only its owner may read (mode 0600), replaced atomically on save."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> CredentialDocument:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return CredentialDocument()
        return CredentialDocument.model_validate_json(text)

    def save(self, document: CredentialDocument) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(document.model_dump_json(indent=2) + "\n")
        tmp.replace(self.path)


class SecretsManagerCredentialStore:
    """The document as the string of one Secrets Manager secret (created on first save)."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self.secret_id = secret_id

    def load(self) -> CredentialDocument:
        try:
            value = self._client.get_secret_value(SecretId=self.secret_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return CredentialDocument()
            raise RetryableError(f"credential store unavailable: {exc.response['Error']['Code']}") from exc
        except BotoCoreError as exc:
            raise RetryableError(f"credential store unavailable: {type(exc).__name__}") from exc
        return CredentialDocument.model_validate_json(value.get("SecretString") or "{}")

    def save(self, document: CredentialDocument) -> None:
        text = document.model_dump_json()
        try:
            self._client.put_secret_value(SecretId=self.secret_id, SecretString=text)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self._client.create_secret(Name=self.secret_id, SecretString=text)


class InMemoryCredentialStore:
    """A store in memory, for tests."""

    def __init__(self, document: CredentialDocument | None = None) -> None:
        self.document = document or CredentialDocument()
        self.loads = 0

    def load(self) -> CredentialDocument:
        self.loads += 1
        return self.document

    def save(self, document: CredentialDocument) -> None:
        self.document = document


def credential_store(location: str, *, client: Any = None) -> CredentialStore:
    """The store at ``location``: ``secretsmanager:<name or ARN>`` (``client``: a boto3 secretsmanager
    client, required there) or a file path."""
    if location.startswith(SECRETS_MANAGER):
        if client is None:
            raise ValueError("a Secrets Manager credential store needs a secretsmanager client")
        return SecretsManagerCredentialStore(client, location.removeprefix(SECRETS_MANAGER))
    return FileCredentialStore(Path(location))
