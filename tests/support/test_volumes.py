"""The stack tests' sizes: one table, scaled by ``TRIBUTARY_E2E_SCALE``."""

from __future__ import annotations

import pytest

from tests.support.volumes import SCALE_ENV, SIZES, volume


def test_each_emulator_gets_its_size_and_other_modes_the_smallest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCALE_ENV, raising=False)
    assert volume("series", "ministack") == SIZES["series"]["ministack"]
    assert volume("series", "localstack") == SIZES["series"]["localstack"]
    assert volume("series", "external") == min(SIZES["series"].values())


def test_the_scale_multiplies_every_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_ENV, "10")
    assert volume("series", "ministack") == 10_000  # the acceptance volume
    assert volume("fault", "ministack") == 10_000
    monkeypatch.setenv(SCALE_ENV, "0.0001")
    assert volume("crash", "localstack") == 1  # never nothing


@pytest.mark.parametrize("raw", ["many", "0", "-2"])
def test_a_scale_that_is_not_a_positive_number_is_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(SCALE_ENV, raw)
    with pytest.raises(ValueError, match=SCALE_ENV):
        volume("graph", "ministack")
