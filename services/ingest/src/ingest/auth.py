"""Who is calling, and may they publish these events.

A producer sends its API key as ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``. The credential
document is read from the store at most every ``refresh_s`` seconds, so an added or revoked key takes effect
within that time without a restart. Reasons name the header or the key id, never the key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from contracts import Envelope
from shared.credential_stores import CredentialStore
from shared.credentials import CredentialDocument, Producer, key_id_of


@dataclass(frozen=True)
class Principal:
    """An authenticated producer."""

    id: str
    producer: Producer


@dataclass(frozen=True)
class AuthFailure:
    """Why a request is refused: 401 (who are you?) or 403 (not allowed)."""

    status: int
    code: str
    message: str


def presented_key(headers: Mapping[str, str]) -> str | AuthFailure:
    """The API key a request carries, or why there is none."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AuthFailure(401, "unauthenticated", "the Authorization header must be 'Bearer <API key>'")
        return token.strip()
    api_key = headers.get("x-api-key")
    if api_key:
        return api_key.strip()
    return AuthFailure(
        401, "unauthenticated", "send a producer API key as 'Authorization: Bearer <key>' or 'X-Api-Key'"
    )


class Authenticator:
    """Checks API keys against a credential store, re-reading it every ``refresh_s`` seconds."""

    def __init__(
        self, store: CredentialStore, *, refresh_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._document: CredentialDocument | None = None
        self._loaded_at = 0.0

    def _current(self) -> CredentialDocument:
        with self._lock:
            now = self._clock()
            if self._document is None or now - self._loaded_at >= self._refresh_s:
                self._document = self._store.load()
                self._loaded_at = now
            return self._document

    def authenticate(self, headers: Mapping[str, str]) -> Principal | AuthFailure:
        """The principal whose key ``headers`` carry, or a 401 failure.

        Raises:
            shared.errors.RetryableError: the store cannot be read (and no copy is cached).
        """
        key = presented_key(headers)
        if isinstance(key, AuthFailure):
            return key
        found = self._current().find(key)
        if found is None:
            key_id = key_id_of(key)
            named = f"key {key_id}" if key_id else "the key (not a Tributary API key)"
            return AuthFailure(401, "unauthenticated", f"{named} is unknown or revoked")
        return Principal(*found)


def forbidden(
    principal: Principal, events: Sequence[tuple[int, Envelope]], *, max_listed: int
) -> list[dict[str, object]]:
    """The events ``principal`` may not publish, as ``{index, loc, msg}`` (the first ``max_listed``)."""
    out: list[dict[str, object]] = []
    for index, envelope in events:
        refused = principal.producer.may_publish(type_=envelope.type, source=envelope.source)
        if refused is not None:
            loc, why = refused
            out.append({"index": index, "loc": loc, "msg": why})
            if len(out) >= max_listed:
                break
    return out
