"""Field types shared by several contracts: identifiers, free text, event times and geographic points.

A change here changes every contract that uses it, so it is also a change to their checked-in JSON
Schemas: ``python -m contracts.schemas check`` catches it, and it needs a new contract version unless the
change only adds an optional field. The checks of :data:`Text` and :data:`EventTime` narrow what a model
accepts without changing its JSON Schema (a schema cannot say "no control characters" or "within these
years" in a way every reader honours), so they are documented here and in ``docs/contracts.md``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"

Identifier = Annotated[str, Field(pattern=ENTITY_ID_PATTERN)]
"""The id of a domain entity (device, site, cat, order, player...): 1-128 characters, no spaces."""

_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def _printable(value: str) -> str:
    for position, char in enumerate(value):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValueError(
                f"must not contain control characters or lone surrogates (U+{ord(char):04X} at {position})"
            )
    return value


Text = Annotated[str, AfterValidator(_printable)]
"""Free text (a name, a model): no control characters (U+0000-U+001F, U+007F-U+009F, so no NUL, tab or
newline) and no lone surrogates, which no store and no UTF-8 encoder takes."""

EARLIEST_EVENT_TIME = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest event time accepted (inclusive): the Unix epoch, below which stores keeping epoch
offsets (FalkorDB's version properties, some Timestream and InfluxDB clients) go negative."""

LATEST_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC)
"""The first event time refused: well inside InfluxDB's int64 nanoseconds (to 2262) and every other
store's range, and the end of the archive's Athena partition projection (``docs/decisions.md``)."""

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.IGNORECASE,
)


_PARSE = TypeAdapter(AwareDatetime)
_NOT_RFC3339 = "must be an RFC 3339 date-time string with an offset, e.g. 2025-06-01T09:30:00Z"


def _rfc3339_text(value: Any) -> Any:
    # Lax datetime parsing also takes Unix seconds, "2025-06-01 09:30Z" and "+0900": none of them is the
    # JSON Schema's date-time (RFC 3339), so readers of the published schema would reject them. Parsed
    # here, so that strict validation (contracts.registry.validate_data) receives a datetime.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(_NOT_RFC3339)
    try:
        return _PARSE.validate_strings(value)
    except ValidationError:  # 2025-02-30, 25:00...
        raise ValueError(_NOT_RFC3339) from None


def _within_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # year 1 at +01:00, year 9999 at -05:00: no UTC time exists
        raise ValueError("must fall within years 1970-2099 once converted to UTC") from None
    if not EARLIEST_EVENT_TIME <= utc < LATEST_EVENT_TIME:
        raise ValueError("must fall within years 1970-2099 once converted to UTC")
    return value


EventTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_within_range)]
"""An instant with its UTC offset, given as an RFC 3339 string, from 1970-01-01T00:00:00Z up to (not
including) 2100-01-01T00:00:00Z once converted to UTC: a range every store accepts."""


class GeoPoint(BaseModel):
    """A WGS 84 position in decimal degrees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
