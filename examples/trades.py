"""Seed 004 (NBA trade tracker): a completed trade and the players it moved, ``trade.completed`` v1."""

from __future__ import annotations

from _local import publish

from contracts.events import PlayerMovement, TradeCompletedV1
from tributary_sdk import Event

trade = TradeCompletedV1(
    trade_id="trd-2024-25-0042",
    season="2024-25",
    movements=[
        PlayerMovement(player_id="1629029", player_name="Luka Dončić", from_team="DAL", to_team="LAL"),
        PlayerMovement(player_id="203076", player_name="Anthony Davis", from_team="LAL", to_team="DAL"),
    ],
)

if __name__ == "__main__":
    publish("nba.trades", [Event(type="trade.completed", version=1, data=trade)])
