"""Tests of the ``trade.completed`` contract."""

from __future__ import annotations

import pytest

from contracts.events.trade_completed import TradeCompletedV1
from shared.testkit.samples import load_sample
from shared.testkit.validation import error_locs


def test_sample_parses() -> None:
    """The sample trade moves two players between Dallas and Los Angeles."""
    trade = TradeCompletedV1.model_validate(load_sample("trade.completed", 1)["data"])
    assert [(m.from_team, m.to_team) for m in trade.movements] == [("DAL", "LAL"), ("LAL", "DAL")]


def test_season_may_cross_the_century() -> None:
    """1999-00 is a valid season."""
    data = load_sample("trade.completed", 1)["data"]
    data["season"] = "1999-00"
    assert TradeCompletedV1.model_validate(data).season == "1999-00"


def test_rejects_a_player_moving_to_their_own_team() -> None:
    """from_team and to_team must differ; the error points at that movement's to_team."""
    data = load_sample("trade.completed", 1)["data"]
    data["movements"][1]["to_team"] = "LAL"
    with pytest.raises(ValueError, match="to_team must differ from from_team"):
        TradeCompletedV1.model_validate(data)
    assert error_locs(TradeCompletedV1, data) == [("movements", 1, "to_team")]


@pytest.mark.parametrize(
    ("field", "value"),
    [("season", "2024"), ("season", "2024-26"), ("movements", []), ("trade_id", "")],
    ids=["season-one-year", "season-not-consecutive", "no-movements", "empty-trade-id"],
)
def test_rejects_bad_field(field: str, value: object) -> None:
    """A bad value is rejected at its field."""
    data = load_sample("trade.completed", 1)["data"]
    data[field] = value
    assert error_locs(TradeCompletedV1, data) == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("from_team", "Lakers"), ("to_team", "dal"), ("player_name", ""), ("salary", 1)],
    ids=["team-name", "team-lowercase", "empty-name", "extra-field"],
)
def test_rejects_bad_movement_field(field: str, value: object) -> None:
    """A bad movement is rejected at the movement's field."""
    data = load_sample("trade.completed", 1)["data"]
    data["movements"][0][field] = value
    assert error_locs(TradeCompletedV1, data) == [("movements", 0, field)]
