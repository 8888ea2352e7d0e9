"""``cat.sighting``: a municipality recorded a sighting of a (usually community) cat.

Seed 001 (the municipal cat data lake): municipalities report the cats they see so that their condition
and TNR (trap-neuter-return) progress can be analysed per area. ``municipality_code`` is the six-digit
Japanese local-government code (全国地方公共団体コード): a prefecture number 01-47, three digits and a check
digit. An ear-tipped cat has been neutered and returned.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.fields import GeoPoint, Identifier, Text
from contracts.registry import contract

CatStatus = Literal["healthy", "injured", "sick", "pregnant", "kitten", "deceased"]

_CHECK_WEIGHTS = (6, 5, 4, 3, 2)


@contract("cat.sighting", 1)
class CatSightingV1(BaseModel):
    """One sighting of one cat in one municipality, with the cat's condition when seen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sighting_id: Identifier
    cat_id: Identifier
    municipality_code: str = Field(pattern=r"^[0-9]{6}$", examples=["131041"])
    municipality_name: Text | None = Field(default=None, min_length=1, max_length=64)
    status: CatStatus
    ear_tipped: bool = False
    location: GeoPoint | None = None

    @field_validator("municipality_code")
    @classmethod
    def _is_a_local_government_code(cls, code: str) -> str:
        if not 1 <= int(code[:2]) <= 47:
            raise ValueError(f"prefecture {code[:2]} is not 01-47")
        remainder = sum(int(d) * w for d, w in zip(code[:5], _CHECK_WEIGHTS, strict=True)) % 11
        if int(code[5]) != (11 - remainder) % 10:
            raise ValueError(f"check digit of {code} is wrong")
        return code
