"""Tests of ingest's settings: where credentials come from, and limits that must fit together."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.auth import Principal
from ingest.bootstrap import IngestSettings, build_authenticator
from shared.credential_stores import FileCredentialStore
from shared.credentials import CredentialDocument


def test_keys_come_from_the_data_folder_by_default(tmp_path: Path) -> None:
    """Without auth_store, ingest reads producers.json in its data folder; a key added there authenticates."""
    doc, key = CredentialDocument().with_key("shop", sources=("shop.*",), types=("order.*",))
    FileCredentialStore(tmp_path / "producers.json").save(doc)
    settings = IngestSettings(data_dir=tmp_path)
    authenticator = build_authenticator(settings)
    assert authenticator is not None
    who = authenticator.authenticate({"authorization": f"Bearer {key}"})
    assert isinstance(who, Principal) and who.id == "shop"


def test_auth_can_be_turned_off_explicitly(tmp_path: Path) -> None:
    assert build_authenticator(IngestSettings(data_dir=tmp_path, auth_enabled=False)) is None


def test_a_burst_smaller_than_a_request_is_refused() -> None:
    """A producer could never send a full request: the settings say so at start."""
    with pytest.raises(ValidationError, match="rate_limit_burst must be at least max_events_per_request"):
        IngestSettings(rate_limit_burst=100, max_events_per_request=500)
