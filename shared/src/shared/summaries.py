"""Error summaries that are safe to log, to put on a dead letter and to answer with: field and reason only.

pydantic's own ``str(ValidationError)`` repeats each offending input value (a payload, a secret); these
summaries never do.
"""

from __future__ import annotations

from pydantic import ValidationError


def validation_problems(exc: ValidationError, *, prefix: str = "", limit: int = 5) -> list[str]:
    """The first ``limit`` errors of ``exc`` as ``loc: message`` (``loc`` dotted, under ``prefix``), and a
    count of the rest; never an input value."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    lines = []
    for error in errors[:limit]:
        loc = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "") or "<root>"
        lines.append(f"{loc}: {error['msg']}")
    if len(errors) > limit:
        lines.append(f"{len(errors) - limit} more errors")
    return lines


def validation_summary(exc: ValidationError, *, prefix: str = "", limit: int = 5) -> str:
    """:func:`validation_problems` on one line."""
    return "; ".join(validation_problems(exc, prefix=prefix, limit=limit))
