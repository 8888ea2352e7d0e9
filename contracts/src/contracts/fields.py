"""Field types shared by several contracts: entity identifiers and geographic points.

A change here changes every contract that uses it, so it is also a change to their checked-in JSON
Schemas: ``python -m contracts.schemas check`` catches it, and it needs a new contract version unless the
change only adds an optional field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"

Identifier = Annotated[str, Field(pattern=ENTITY_ID_PATTERN)]
"""The id of a domain entity (device, site, cat, order, player...): 1-128 characters, no spaces."""


class GeoPoint(BaseModel):
    """A WGS 84 position in decimal degrees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
