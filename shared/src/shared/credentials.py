"""Producer credentials: API keys, stored hashed, each bound to the sources and event types it may publish.

The one owner of the credential store's document (written by ``tributary producers``, read by ingest):

```json
{"version": 1, "producers": {"shop": {"sources": ["shop.*"], "types": ["order.*"], "platform": false,
  "keys": [{"id": "3f9c2a1b7d4e", "sha256": "<hex>", "created": "2026-12-06T22:00:00Z"}]}}}
```

A key reads ``trb_<key id>_<secret>``: the key id finds the record without scanning, the secret is 256
random bits. Only the SHA-256 of the whole key is stored and compared in constant time; a slow hash
(scrypt, PBKDF2) protects guessable passwords, and would only hand an attacker a CPU cost to impose on
every request here (docs/decisions.md). A producer holds at most :data:`MAX_KEYS` keys at once, so a key
can be rotated without downtime: add the new one, deploy it, revoke the old one.

``ops.*`` events (the platform's own alarms) may only come from a ``platform`` producer, whatever its
type patterns say.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field

KEY_PREFIX = "trb"
MAX_KEYS = 2
PLATFORM_TYPE_PREFIX = "ops."
PRODUCER_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_KEY = re.compile(r"^trb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class CredentialError(ValueError):
    """A credential command that cannot be carried out (unknown producer, too many keys, bad pattern)."""


class KeyRecord(BaseModel):
    """One key of a producer: its id, the SHA-256 of the whole key, when it was made."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    sha256: str
    created: datetime


class Producer(BaseModel):
    """A principal: what it may publish, and its keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: tuple[str, ...] = Field(min_length=1)
    types: tuple[str, ...] = Field(min_length=1)
    platform: bool = False
    keys: tuple[KeyRecord, ...] = ()

    def may_publish(self, *, type_: str, source: str) -> tuple[str, str] | None:
        """``None`` if this producer may publish an event of ``type_`` from ``source``, else the field that
        forbids it (``type`` or ``source``) and why."""
        if type_.startswith(PLATFORM_TYPE_PREFIX) and not self.platform:
            return "type", f"{type_} events come only from the platform itself"
        if not any(fnmatchcase(type_, pattern) for pattern in self.types):
            return "type", f"this producer may not publish {type_} events"
        if not any(fnmatchcase(source, pattern) for pattern in self.sources):
            return "source", "this producer may not publish from this source"
        return None


class CredentialDocument(BaseModel):
    """The whole store: every producer by id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    producers: dict[str, Producer] = Field(default_factory=dict)

    def find(self, key: str) -> tuple[str, Producer] | None:
        """The producer (id and record) holding ``key``, or ``None``; compares hashes in constant time."""
        match = _KEY.match(key)
        if match is None:
            return None
        key_id, digest = match.group(1), key_hash(key)
        for producer_id, producer in self.producers.items():
            for record in producer.keys:
                if record.id == key_id and hmac.compare_digest(record.sha256, digest):
                    return producer_id, producer
        return None

    def with_key(
        self,
        producer_id: str,
        *,
        sources: tuple[str, ...] = (),
        types: tuple[str, ...] = (),
        platform: bool = False,
        now: datetime | None = None,
    ) -> tuple[CredentialDocument, str]:
        """This document with a new key for ``producer_id`` (created with ``sources`` and ``types`` if new;
        those given replace an existing producer's), and the key itself (shown once, never stored).

        Raises:
            CredentialError: a bad id or pattern, a new producer without sources or types, ``ops.*`` types
                for a non-platform producer, or a producer that already holds :data:`MAX_KEYS` keys.
        """
        if not re.match(PRODUCER_ID_PATTERN, producer_id):
            raise CredentialError(f"producer id must match {PRODUCER_ID_PATTERN}")
        current = self.producers.get(producer_id)
        sources = sources or (current.sources if current else ())
        types = types or (current.types if current else ())
        platform = platform or bool(current and current.platform)
        if not sources or not types:
            raise CredentialError("a new producer needs at least one --source and one --type pattern")
        if not platform and any(t.startswith(PLATFORM_TYPE_PREFIX) for t in types):
            raise CredentialError("ops.* types belong to the platform producer only")
        keys = current.keys if current else ()
        if len(keys) >= MAX_KEYS:
            raise CredentialError(
                f"producer {producer_id} already holds {MAX_KEYS} keys; revoke one first (rotation keeps two)"
            )
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = KeyRecord(id=key_id, sha256=key_hash(key), created=now or datetime.now(UTC))
        producer = Producer(sources=sources, types=types, platform=platform, keys=(*keys, record))
        return self.model_copy(update={"producers": self.producers | {producer_id: producer}}), key

    def without(self, producer_id: str, key_id: str | None = None) -> CredentialDocument:
        """This document with one key of ``producer_id`` revoked, or the whole producer when ``key_id`` is
        ``None``.

        Raises:
            CredentialError: no such producer or key.
        """
        current = self.producers.get(producer_id)
        if current is None:
            raise CredentialError(f"no producer {producer_id}")
        if key_id is None:
            return self.model_copy(
                update={"producers": {k: v for k, v in self.producers.items() if k != producer_id}}
            )
        keys = tuple(k for k in current.keys if k.id != key_id)
        if len(keys) == len(current.keys):
            raise CredentialError(f"producer {producer_id} has no key {key_id}")
        producer = current.model_copy(update={"keys": keys})
        return self.model_copy(update={"producers": self.producers | {producer_id: producer}})


def key_hash(key: str) -> str:
    """The stored form of ``key``: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    """The key id inside ``key`` (safe to log: it identifies the key without revealing it)."""
    match = _KEY.match(key)
    return match.group(1) if match else None
