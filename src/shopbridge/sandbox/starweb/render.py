"""Starweb records in wire form: camelCase JSON, ISO-8601 times with the shop's offset, `{data}` wrappers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shopbridge.sandbox.starweb.state import Record, StarwebState

CENT = Decimal("0.01")
ORDER_ADDRESS_TYPES = (
    "originalInvoice", "originalDelivery", "customerInvoice", "customerDelivery",
    "paymentMethodInvoice", "paymentMethodDelivery",
)  # fmt: skip
# Order fields kept apart from the flat order record: they are embedded only when included.
ORDER_CHILDREN = ("items", "addresses", "comments", "externalServices", "wireOverrides")


def wire_time(moment: datetime, timezone: str) -> str:
    """`2019-11-28T13:38:17+01:00`: whole seconds, in the shop's local time with its offset (spec §4)."""
    return moment.astimezone(ZoneInfo(timezone)).replace(microsecond=0).isoformat()


def wire_value(value: Any, timezone: str) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return wire_time(value, timezone)
    if isinstance(value, dict):
        return {key: wire_value(item, timezone) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_value(item, timezone) for item in value]
    return value


def wrapped(value: Any) -> dict[str, Any]:
    """Embedded children are wrapped like top-level responses: `"items": {"data": [...]}` (spec §4)."""
    return {"data": value}


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# --- orders ---


def item_net(item: Record) -> Decimal:
    """A row's net amount after its discount: an amount off the row, or a percentage of it (OrderItemModel)."""
    gross_row = Decimal(item["unitPrice"]) * item["quantity"]
    discount = Decimal(item.get("discount", 0))
    if item.get("discountType", "percent") == "amount":
        return cents(gross_row - discount)
    return cents(gross_row * (1 - discount / 100))


def order_totals(order: Record) -> tuple[Decimal, Decimal]:
    """Net total and VAT of an order: item rows, shipping and payment fee, each rounded to cents."""
    rows = [(item_net(item), Decimal(item["vatRate"])) for item in order["items"]]
    rows.append((cents(order["shippingCost"]), Decimal(order["shippingVatRate"])))
    rows.append((cents(order["paymentFee"]), Decimal(order["paymentVatRate"])))
    net = sum((amount for amount, _ in rows), Decimal(0))
    vat = sum((cents(amount * rate / 100) for amount, rate in rows), Decimal(0))
    return net, vat


def render_order(state: StarwebState, order: Record, include: Iterable[str]) -> dict[str, Any]:
    flat = {key: value for key, value in order.items() if key not in ORDER_CHILDREN}
    net, vat = order_totals(order)
    flat.update(
        totalAmount=net, totalVat=vat, amountToPay=net + vat, totalAmountInBaseCurrency=net,
        totalVatInBaseCurrency=vat, amountToPayInBaseCurrency=net + vat, baseCurrencyCode=state.base_currency,
        shopCountryCode=state.country, hasComments=bool(order["comments"]),
        amountPaidInBaseCurrency=order["amountPaid"],
    )  # fmt: skip
    for name in include:
        flat[name] = wrapped(_order_child(state, order, name))
    # Fields printed as given, whatever the store holds: hostile payloads for tests.
    return {**wire_value(flat, state.timezone), **order.get("wireOverrides", {})}


def _order_child(state: StarwebState, order: Record, name: str) -> Any:
    if name == "items":
        return [render_item(item) for item in order["items"]]
    if name == "addresses":
        return dict(order["addresses"])
    if name == "externalServices":
        return list(order["externalServices"])
    if name == "status":
        return render_status(state.order_statuses[order["statusId"]])
    customer = state.customers.get(order["customerId"])
    return render_customer(state, customer, ()) if customer else None


def render_item(item: Record) -> dict[str, Any]:
    return dict(wire_value(item, "UTC"))


def render_status(status: Record) -> dict[str, Any]:
    return {**status, "languages": list(status["languages"])}


# --- customers and products ---


def render_customer(state: StarwebState, customer: Record, include: Iterable[str]) -> dict[str, Any]:
    flat = {key: value for key, value in customer.items() if key not in ("addresses", "tags", "externalServices")}
    for name in include:
        flat[name] = wrapped(customer.get(name) or ({} if name == "addresses" else []))
    return dict(wire_value(flat, state.timezone))


def render_product(state: StarwebState, product: Record, include: Iterable[str]) -> dict[str, Any]:
    flat = {key: value for key, value in product.items() if key not in ("variants", "languages", "vatRates")}
    flat["hasSeveralVariants"] = len(product["variants"]) > 1
    for name in include:
        if name in ("variants", "primaryVariant"):
            variants = product["variants"] if name == "variants" else product["variants"][:1]
            flat["variants"] = wrapped([render_variant(variant, ()) for variant in variants])
        else:
            flat[name] = wrapped(list(product.get(name, [])))
    return dict(wire_value(flat, state.timezone))


def render_variant(variant: Record, include: Iterable[str]) -> dict[str, Any]:
    flat = {key: value for key, value in variant.items() if key not in ("prices", "stocks")}
    for name in include:
        if name == "prices":
            # ProductVariantModel embeds prices as a bare array, unlike other embeds (OpenAPI 2.11.0).
            flat["prices"] = [render_price(price) for price in variant["prices"].values()]
    return dict(wire_value(flat, "UTC"))


def render_price(price: Record) -> dict[str, Any]:
    return dict(wire_value(price, "UTC"))


def render_plain(state: StarwebState, record: Record) -> dict[str, Any]:
    return dict(wire_value(record, state.timezone))
