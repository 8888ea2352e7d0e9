"""Upcasting in the runtime: a handler sees only the newest version of each type its service accepts.

A service declares the versions it accepts in its manifest (``Subscription(type, versions)``); the rules
route every one of them to its queue. Before the batch reaches the handler, :func:`upcaster_for` turns an
event of an older accepted version into the newest one with the contracts' upcasters, so handlers are
written against one model per type. An event that cannot be upcast (its data breaks its own contract) is a
:class:`~shared.errors.ContractError`: it goes to the DLQ with the reason, like any invalid envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import ValidationError

from contracts import Envelope, UnknownContractError, UpcastError, upcast_envelope
from shared.errors import ContractError
from shared.manifest import Subscription
from shared.summaries import validation_summary

Upcast = Callable[[Envelope], Envelope]
"""Turns a parsed envelope into the version its handler expects; raises ContractError if it cannot."""


def no_upcast(envelope: Envelope) -> Envelope:
    """The envelope as it arrived (services that store events as published, like the archiver)."""
    return envelope


def upcaster_for(consumes: Sequence[Subscription]) -> Upcast:
    """The :data:`Upcast` of a service consuming ``consumes``: each type to its newest accepted version.

    Types the service does not list, and events already at or past that version, pass unchanged (the
    handler decides what to do with them).
    """
    targets = {s.type: max(s.versions) for s in consumes if s.versions}
    if not targets:
        return no_upcast

    def upcast(envelope: Envelope) -> Envelope:
        target = targets.get(envelope.type)
        if target is None or envelope.version >= target:
            return envelope
        try:
            return upcast_envelope(envelope, to=target)
        except ValidationError as exc:
            problems = validation_summary(exc, prefix="data")
            raise ContractError(f"{envelope.detail_type} cannot be upcast to v{target}: {problems}") from exc
        except (UpcastError, UnknownContractError) as exc:
            raise ContractError(f"{envelope.detail_type} cannot be upcast to v{target}: {exc}") from exc

    return upcast
