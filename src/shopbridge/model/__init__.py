"""Canonical domain types shared by every connector and flow."""

from shopbridge.model.customer import Address, Customer
from shopbridge.model.money import Money, round_cents
from shopbridge.model.order import Order, OrderLine, OrderLineKind, OrderState, Payment, Shipment
from shopbridge.model.product import Price, PriceList, Product, StockLevel, Variant

__all__ = [
    "Address",
    "Customer",
    "Money",
    "Order",
    "OrderLine",
    "OrderLineKind",
    "OrderState",
    "Payment",
    "Price",
    "PriceList",
    "Product",
    "Shipment",
    "StockLevel",
    "Variant",
    "round_cents",
]
