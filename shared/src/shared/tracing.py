"""Trace headers carried from ingest to every store (``X-Amzn-Trace-Id`` format).

The header travels as PutEvents' ``TraceHeader`` and, because emulators drop ``AWSTraceHeader``, in the
envelope's ``trace`` too. This module is the one place that knows the format, so an OpenTelemetry backend
can replace X-Ray without touching services.
"""

from __future__ import annotations

import os
import re
import time

_ROOT = re.compile(r"Root=(1-[0-9a-f]{8}-[0-9a-f]{24})")


def new_trace_header(*, sampled: bool = True) -> str:
    """A fresh X-Ray trace header: ``Root=1-<epoch hex>-<96 random bits>;Sampled=<0|1>``."""
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled={int(sampled)}"


def trace_id(header: str | None) -> str | None:
    """The ``Root`` trace id of a header, or ``None`` if it carries none."""
    match = _ROOT.search(header or "")
    return match.group(1) if match else None


def continue_or_start(header: str | None) -> str:
    """The incoming header if it names a valid root, else a new one."""
    return header if header and trace_id(header) else new_trace_header()
