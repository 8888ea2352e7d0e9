"""The pure part of a claim, shared by every backend: what each id's recorded row means for a new claim."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.idempotency.ports import Landed


@dataclass(frozen=True)
class LedgerRow:
    """What the ledger holds for one id: its location, whether that write landed, when, and its digest."""

    location: str
    done: bool
    updated: float
    digest: str = ""


@dataclass(kw_only=True)
class Decision:
    """A claim before the store is asked: ``stale`` ids wait on whether their earlier write landed."""

    fresh: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    conflict: list[str] = field(default_factory=list)
    stale: dict[str, LedgerRow] = field(default_factory=dict)


def canonical_digest(document: Any) -> str:
    """sha256 of ``document`` as canonical JSON (sorted keys, no whitespace): the content kept per id."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def decide(
    ids: Mapping[str, str], rows: Mapping[str, LedgerRow], *, location: str, lease_s: float, now: float
) -> Decision:
    """Each id's verdict from its row (``ids``: id → digest; a missing row means the id is new)."""
    decision = Decision()
    for id_, digest in ids.items():
        row = rows.get(id_)
        if row is None:
            decision.fresh.append(id_)
        elif row.digest and digest and row.digest != digest:
            decision.conflict.append(id_)
        elif row.done:
            decision.done.append(id_)
        elif row.location == location:
            decision.fresh.append(id_)
        elif now - row.updated < lease_s:
            decision.busy.append(id_)
        else:
            decision.stale[id_] = row
    return decision


def ask_landed(stale: Mapping[str, LedgerRow], landed: Landed) -> dict[str, bool]:
    """Whether each stale location's write landed: one question per location, asked outside any lock."""
    return {loc: landed(loc) for loc in dict.fromkeys(row.location for row in stale.values())}
