"""The credential store contract, run against the file, Secrets Manager (moto) and in-memory stores."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from shared.credential_stores import (
    CredentialStore,
    FileCredentialStore,
    InMemoryCredentialStore,
    SecretsManagerCredentialStore,
    credential_store,
)
from shared.credentials import CredentialDocument


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture(params=["file", "secretsmanager", "in-memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> CredentialStore:
    if request.param == "file":
        return FileCredentialStore(tmp_path / "auth" / "producers.json")
    if request.param == "secretsmanager":
        request.getfixturevalue("aws")
        client = boto3.client("secretsmanager", region_name="us-east-1")
        return SecretsManagerCredentialStore(client, "tributary/producers")
    return InMemoryCredentialStore()


def test_a_store_never_written_is_empty(store: CredentialStore) -> None:
    """Loading before any save yields an empty document, not an error."""
    assert store.load() == CredentialDocument()


def test_saved_documents_load_back_and_keys_still_work(store: CredentialStore) -> None:
    """Save, load: the same producers, and a key made before saving authenticates after loading."""
    doc, key = CredentialDocument().with_key("shop", sources=("shop.*",), types=("order.*",))
    store.save(doc)
    doc2, key2 = store.load().with_key("shop")
    store.save(doc2)
    loaded = store.load()
    assert loaded == doc2
    assert loaded.find(key) is not None and loaded.find(key2) is not None


def test_the_file_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """The credential file is written with mode 0600."""
    store = FileCredentialStore(tmp_path / "producers.json")
    store.save(CredentialDocument().with_key("shop", sources=("*",), types=("*",))[0])
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_locations_pick_the_store(tmp_path: Path, aws: None) -> None:
    """A path is a file store; secretsmanager:<id> a Secrets Manager one, which needs a client."""
    assert isinstance(credential_store(str(tmp_path / "p.json")), FileCredentialStore)
    client = boto3.client("secretsmanager", region_name="us-east-1")
    chosen = credential_store("secretsmanager:tributary/producers", client=client)
    assert isinstance(chosen, SecretsManagerCredentialStore) and chosen.secret_id == "tributary/producers"
    with pytest.raises(ValueError, match="client"):
        credential_store("secretsmanager:tributary/producers")
