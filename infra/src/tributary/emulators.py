"""Choosing the stack's emulator by name: ``TRIBUTARY_EMULATOR`` (``make … EMULATOR=…``), else an endpoint
given in ``LOCALSTACK_ENDPOINT`` (``endpoint``: an emulator something else runs), else LocalStack."""

from __future__ import annotations

import os
from pathlib import Path

from tributary.emulator import Emulator
from tributary.endpoint import ANY_ENDPOINT, ENDPOINT_ENV, EndpointEmulator
from tributary.localstack import LocalStackEmulator
from tributary.ministack import MiniStackEmulator

EMULATORS: dict[str, type[LocalStackEmulator] | type[MiniStackEmulator]] = {
    "localstack": LocalStackEmulator,
    "ministack": MiniStackEmulator,
}
DEFAULT_EMULATOR = "localstack"
ENDPOINT = ANY_ENDPOINT


def default_emulator_name() -> str:
    """``$TRIBUTARY_EMULATOR``, else ``endpoint`` if ``$LOCALSTACK_ENDPOINT`` is set, else ``localstack``."""
    if os.environ.get("TRIBUTARY_EMULATOR"):
        return os.environ["TRIBUTARY_EMULATOR"]
    return ENDPOINT if os.environ.get(ENDPOINT_ENV) else DEFAULT_EMULATOR


def make_emulator(name: str, data_dir: Path) -> Emulator:
    """The emulator called ``name``, not started yet (``endpoint``: the one at ``$LOCALSTACK_ENDPOINT``).

    Raises:
        ValueError: ``name`` is not a known emulator, or it is ``endpoint`` and no endpoint is set.
    """
    if name == ENDPOINT:
        endpoint = os.environ.get(ENDPOINT_ENV)
        if not endpoint:
            raise ValueError(f"the {ENDPOINT!r} emulator needs {ENDPOINT_ENV} (a URL or host:port)")
        return EndpointEmulator(endpoint)
    try:
        return EMULATORS[name](data_dir)
    except KeyError:
        raise ValueError(f"unknown emulator {name!r} (known: {', '.join([*EMULATORS, ENDPOINT])})") from None
