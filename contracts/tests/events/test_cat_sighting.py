"""Tests of the ``cat.sighting`` contract."""

from __future__ import annotations

import pytest

from contracts.events.cat_sighting import CatSightingV1
from shared.testkit.samples import load_sample
from shared.testkit.validation import error_locs


def test_sample_parses() -> None:
    """The sample sighting is of an ear-tipped cat in Shinjuku."""
    sighting = CatSightingV1.model_validate(load_sample("cat.sighting", 1)["data"])
    assert (sighting.municipality_code, sighting.ear_tipped) == ("131041", True)


def test_ear_tipped_defaults_to_false() -> None:
    """A cat is not assumed to be neutered."""
    data = load_sample("cat.sighting", 1)["data"]
    del data["ear_tipped"]
    assert CatSightingV1.model_validate(data).ear_tipped is False


@pytest.mark.parametrize("code", ["011002", "131016", "141003", "271004", "472018"])
def test_accepts_real_municipality_codes(code: str) -> None:
    """Codes of Sapporo, Chiyoda, Yokohama, Osaka and Naha pass the check digit."""
    data = load_sample("cat.sighting", 1)["data"]
    data["municipality_code"] = code
    assert CatSightingV1.model_validate(data).municipality_code == code


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("municipality_code", "13104"),
        ("municipality_code", "131042"),
        ("municipality_code", "481003"),
        ("municipality_code", "\uff11\uff13\uff11\uff10\uff14\uff11"),  # 131041, full width
        ("municipality_code", 131041),
        ("status", "lost"),
        ("ear_tipped", "maybe"),
        ("municipality_name", ""),
        ("cat_id", "cat 107"),
    ],
    ids=[
        "five-digits",
        "bad-check-digit",
        "no-such-prefecture",
        "full-width-digits",
        "number-not-string",
        "unknown-status",
        "not-a-bool",
        "empty-name",
        "bad-cat-id",
    ],
)
def test_rejects_bad_field(field: str, value: object) -> None:
    """A bad value is rejected at its field."""
    data = load_sample("cat.sighting", 1)["data"]
    data[field] = value
    assert error_locs(CatSightingV1, data) == [(field,)]


def test_rejects_unknown_field() -> None:
    """Fields outside the contract are rejected, not dropped."""
    data = load_sample("cat.sighting", 1)["data"]
    data["colour"] = "calico"
    assert error_locs(CatSightingV1, data) == [("colour",)]
