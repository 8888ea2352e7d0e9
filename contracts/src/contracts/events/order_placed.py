"""``order.placed``: a customer placed an order in a shop.

Seed 002 (the shop ETL pipeline): the shop API writes orders to Aurora and Glue jobs turn them into
Parquet for Athena; here orders are events that the archiver lands in S3 in the same Athena-readable way.
Money is ``Decimal`` (send it as a JSON string to keep it exact) with at most four decimal places, and
``total_amount`` must equal the sum of ``quantity * unit_price`` over the items.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from contracts.fields import Identifier
from contracts.registry import contract


class OrderItem(BaseModel):
    """One order line: a product, how many and the price of one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: Identifier
    quantity: int = Field(ge=1, le=100_000)
    unit_price: Decimal = Field(ge=0, max_digits=14, decimal_places=4)


@contract("order.placed", 1)
class OrderPlacedV1(BaseModel):
    """An order with its lines and its total, in one ISO 4217 currency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: Identifier
    shop_id: Identifier
    customer_id: Identifier
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["JPY"])
    items: tuple[OrderItem, ...] = Field(min_length=1, max_length=100)
    total_amount: Decimal = Field(ge=0, max_digits=18, decimal_places=4)

    @field_validator("total_amount")
    @classmethod
    def _is_sum_of_items(cls, total: Decimal, info: ValidationInfo) -> Decimal:
        # A field validator, not a model validator, so that the error's loc names total_amount.
        items: tuple[OrderItem, ...] | None = info.data.get("items")
        if items is None:  # items were invalid: that error is already reported
            return total
        expected = sum((item.quantity * item.unit_price for item in items), Decimal(0))
        if total != expected:
            raise ValueError(
                f"total_amount {total} does not equal the sum of quantity x unit_price ({expected})"
            )
        return total
