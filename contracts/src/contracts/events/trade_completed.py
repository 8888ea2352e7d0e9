"""``trade.completed``: an NBA trade went through.

Seed 004 (the NBA trade tracker): it records trades and which team each player belongs to. A trade lists
every player movement (two-team and multi-team trades alike); the graph store keeps the player→team edges,
version-guarded by the event's ``time``. Teams are three-letter abbreviations (``LAL``, ``DAL``…).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from contracts.fields import Identifier, Text
from contracts.registry import contract

_TEAM_PATTERN = r"^[A-Z]{3}$"


class PlayerMovement(BaseModel):
    """One player moving from one team to another in a trade."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    player_id: Identifier
    player_name: Text = Field(min_length=1, max_length=128)
    from_team: str = Field(pattern=_TEAM_PATTERN)
    to_team: str = Field(pattern=_TEAM_PATTERN)

    @field_validator("to_team")
    @classmethod
    def _differs_from_from_team(cls, to_team: str, info: ValidationInfo) -> str:
        if to_team == info.data.get("from_team"):
            raise ValueError(f"to_team must differ from from_team ({to_team})")
        return to_team


@contract("trade.completed", 1)
class TradeCompletedV1(BaseModel):
    """A completed trade in a season (``2024-25``) and the player movements it made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trade_id: Identifier
    season: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2024-25"])
    movements: tuple[PlayerMovement, ...] = Field(min_length=1, max_length=30)

    @field_validator("season")
    @classmethod
    def _spans_consecutive_years(cls, season: str) -> str:
        start, end = season.split("-")
        if (int(start) + 1) % 100 != int(end):
            raise ValueError(f"season {season} must span consecutive years, e.g. 2024-25")
        return season
