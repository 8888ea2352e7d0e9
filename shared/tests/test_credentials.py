"""Tests of the producer credential document: keys, rotation, revocation, what a producer may publish."""

from __future__ import annotations

import pytest

from shared.credentials import MAX_KEYS, CredentialDocument, CredentialError, key_hash, key_id_of


def _shop() -> tuple[CredentialDocument, str]:
    return CredentialDocument().with_key("shop", sources=("shop.*",), types=("order.*",))


def test_a_new_key_finds_its_producer_and_only_its_hash_is_stored() -> None:
    """The key authenticates its producer; the document holds the key's SHA-256, never the key."""
    doc, key = _shop()
    found = doc.find(key)
    assert found is not None and found[0] == "shop"
    assert key not in doc.model_dump_json()
    assert doc.producers["shop"].keys[0].sha256 == key_hash(key)
    assert key_id_of(key) == doc.producers["shop"].keys[0].id


@pytest.mark.parametrize(
    "presented",
    ["", "nonsense", "trb_000000000000_" + "A" * 43, "Bearer x"],
)
def test_unknown_or_malformed_keys_find_nobody(presented: str) -> None:
    """A key that is not one of the document's finds no producer."""
    doc, _ = _shop()
    assert doc.find(presented) is None


def test_a_key_with_a_known_id_but_another_secret_finds_nobody() -> None:
    """The key id alone is not enough: the secret must match too."""
    doc, key = _shop()
    forged = key[: -len("x")] + ("A" if key[-1] != "A" else "B")
    assert doc.find(forged) is None


def test_two_keys_rotate_and_a_third_is_refused_until_one_is_revoked() -> None:
    """A producer holds two keys at once; both work; revoking one leaves the other working."""
    doc, first = _shop()
    doc, second = doc.with_key("shop")
    assert doc.find(first) and doc.find(second)
    with pytest.raises(CredentialError, match=f"already holds {MAX_KEYS} keys"):
        doc.with_key("shop")
    first_id = key_id_of(first)
    assert first_id is not None
    doc = doc.without("shop", first_id)
    assert doc.find(first) is None and doc.find(second) is not None
    doc, third = doc.with_key("shop")
    assert doc.find(third) is not None


def test_revoking_a_producer_revokes_every_key() -> None:
    """Without a key id, the whole producer goes."""
    doc, key = _shop()
    doc = doc.without("shop")
    assert doc.find(key) is None and "shop" not in doc.producers
    with pytest.raises(CredentialError, match="no producer"):
        doc.without("shop")


def test_a_producer_may_publish_only_its_sources_and_types() -> None:
    """Type and source patterns both have to match; the refusal names the field."""
    producer = _shop()[0].producers["shop"]
    assert producer.may_publish(type_="order.placed", source="shop.web") is None
    assert producer.may_publish(type_="trade.completed", source="shop.web") == (
        "type",
        "this producer may not publish trade.completed events",
    )
    refused = producer.may_publish(type_="order.placed", source="nba.feed")
    assert refused is not None and refused[0] == "source"


def test_ops_events_come_only_from_the_platform() -> None:
    """Even a producer allowed every type may not send ops.*; ops types cannot be granted to others."""
    doc, _ = CredentialDocument().with_key("anything", sources=("*",), types=("*",))
    refused = doc.producers["anything"].may_publish(type_="ops.dlq_depth", source="tributary.watcher")
    assert refused == ("type", "ops.dlq_depth events come only from the platform itself")
    with pytest.raises(CredentialError, match="platform"):
        CredentialDocument().with_key("sneaky", sources=("*",), types=("ops.*",))
    doc, _ = CredentialDocument().with_key(
        "platform", sources=("tributary.*",), types=("ops.*",), platform=True
    )
    assert doc.producers["platform"].may_publish(type_="ops.dlq_depth", source="tributary.watcher") is None


def test_a_new_producer_needs_patterns_and_a_valid_id() -> None:
    """No sources or types, or an id with spaces, is a clear error."""
    with pytest.raises(CredentialError, match="--source"):
        CredentialDocument().with_key("shop")
    with pytest.raises(CredentialError, match="producer id"):
        CredentialDocument().with_key("Shop Front", sources=("*",), types=("*",))
