"""Tributary's event contracts: the envelope and one versioned model per event type.

Importing this package registers every contract (see :mod:`contracts.registry`).
"""

from __future__ import annotations

from contracts import events as _events  # noqa: F401  (registers the models)
from contracts.envelope import Envelope, EventIn, detail_type
from contracts.ids import EVENT_ID_PATTERN, new_event_id
from contracts.registry import UnknownContractError, contract_model, known_contracts, validate_data
from contracts.upcasting import UpcastError, has_upcaster, upcast_data, upcast_envelope, upcaster

__all__ = [
    "EVENT_ID_PATTERN",
    "Envelope",
    "EventIn",
    "UnknownContractError",
    "UpcastError",
    "contract_model",
    "detail_type",
    "has_upcaster",
    "known_contracts",
    "new_event_id",
    "upcast_data",
    "upcast_envelope",
    "upcaster",
    "validate_data",
]
