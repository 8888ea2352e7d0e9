"""Tests of the ``order.placed`` contract."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.events.order_placed import OrderPlacedV1
from shared.testkit.samples import load_sample
from shared.testkit.validation import error_locs


def test_sample_parses_money_exactly() -> None:
    """Prices and totals are Decimals, not floats."""
    order = OrderPlacedV1.model_validate(load_sample("order.placed", 1)["data"])
    assert order.total_amount == Decimal(5900)
    assert [item.unit_price for item in order.items] == [Decimal(1200), Decimal(3500)]


def test_total_with_cents_matches_exactly() -> None:
    """0.1 + 0.2 is 0.3 in Decimal, so totals with fractions compare exactly."""
    data = load_sample("order.placed", 1)["data"]
    data["currency"] = "USD"
    data["items"] = [
        {"product_id": "sku-a", "quantity": 1, "unit_price": "0.10"},
        {"product_id": "sku-b", "quantity": 1, "unit_price": "0.20"},
    ]
    data["total_amount"] = "0.3"
    assert OrderPlacedV1.model_validate(data).total_amount == Decimal("0.3")


def test_rejects_a_wrong_total() -> None:
    """A total that is not the sum of the lines is rejected at total_amount, with both amounts."""
    data = load_sample("order.placed", 1)["data"]
    data["total_amount"] = "5000"
    with pytest.raises(ValueError, match=r"total_amount 5000 does not equal .*\(5900\)"):
        OrderPlacedV1.model_validate(data)
    assert error_locs(OrderPlacedV1, data) == [("total_amount",)]


def test_bad_item_is_reported_once() -> None:
    """A bad line is reported at the line, without a second error about the total."""
    data = load_sample("order.placed", 1)["data"]
    data["items"][1]["quantity"] = 0
    assert error_locs(OrderPlacedV1, data) == [("items", 1, "quantity")]


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("currency", "yen", ("currency",)),
        ("items", [], ("items",)),
        ("total_amount", "NaN", ("total_amount",)),
        ("total_amount", "-1", ("total_amount",)),
        ("total_amount", "5900.00001", ("total_amount",)),
        ("coupon", "SPRING", ("coupon",)),
    ],
    ids=["currency-case", "no-items", "nan-total", "negative-total", "too-many-places", "extra-field"],
)
def test_rejects_bad_field(field: str, value: object, loc: tuple[str, ...]) -> None:
    """A bad value is rejected at its field."""
    data = load_sample("order.placed", 1)["data"]
    data[field] = value
    assert error_locs(OrderPlacedV1, data) == [loc]


@pytest.mark.parametrize(
    ("field", "value"),
    [("unit_price", "-5"), ("unit_price", "12.34567"), ("unit_price", "Infinity"), ("quantity", 1.5)],
    ids=["negative-price", "too-many-places", "infinite-price", "fractional-quantity"],
)
def test_rejects_bad_item_field(field: str, value: object) -> None:
    """A bad order line is rejected at the line's field."""
    data = load_sample("order.placed", 1)["data"]
    data["items"][0][field] = value
    assert error_locs(OrderPlacedV1, data) == [("items", 0, field)]


def test_rejects_more_than_100_items() -> None:
    """An order has at most 100 lines."""
    data = load_sample("order.placed", 1)["data"]
    data["items"] = [{"product_id": f"sku-{n}", "quantity": 1, "unit_price": "1"} for n in range(101)]
    data["total_amount"] = "101"
    assert error_locs(OrderPlacedV1, data) == [("items",)]
