"""Seed 002 (shop ETL): the shop publishes each order as it is placed, ``order.placed`` v1."""

from __future__ import annotations

from decimal import Decimal

from _local import publish

from contracts.events import OrderItem, OrderPlacedV1
from tributary_sdk import Event

order = OrderPlacedV1(
    order_id="ord-100234",
    shop_id="shop-01",
    customer_id="cus-5521",
    currency="JPY",
    items=[
        OrderItem(product_id="sku-TEA-001", quantity=2, unit_price=Decimal(1200)),
        OrderItem(product_id="sku-CUP-010", quantity=1, unit_price=Decimal(3500)),
    ],
    total_amount=Decimal(5900),
)

if __name__ == "__main__":
    publish("shop.web", [Event(type="order.placed", version=1, data=order)])
