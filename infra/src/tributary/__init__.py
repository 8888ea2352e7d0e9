"""Tributary's local stack and operator tooling.

- :mod:`tributary.emulator`: the local AWS emulator (LocalStack on the host), behind one small interface.
- :mod:`tributary.provision`: the bus, queues, DLQs, rules and bucket, built from the service manifests.
- :mod:`tributary.supervisor`: one process per service (and per replica), health-checked and drained.
- :mod:`tributary.stack`: all of the above as one context manager, described in ``stack.json``.
- :mod:`tributary.cli`: the ``tributary`` command.
"""

from __future__ import annotations
