"""Starweb payloads read into canonical orders, summaries and webhook hints (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shopbridge.connectors.starweb.translate import (
    canonical_state,
    order_from_starweb,
    parse_time,
    summary_from_starweb,
    webhook_hints,
)
from shopbridge.errors import DataError
from shopbridge.model import OrderLineKind, OrderState

from .payloads import ADDRESS, ORDER, order, with_item

ZONE = "Europe/Stockholm"


def read(payload: dict[str, Any], state_map: dict[str, OrderState] | None = None) -> Any:
    return order_from_starweb(payload, "demo", ZONE, state_map or {})


# --- whole orders ---


def test_order_reads_lines_totals_addresses_and_customer() -> None:
    result = read(order())
    assert (result.id, result.shop, result.status, result.state) == ("1001", "demo", "1", OrderState.PAID)
    product, shipping = result.lines
    assert (product.sku, product.quantity, product.unit_price.amount) == ("TS-RED-M", 2, Decimal("199.2"))
    assert (product.total_net.amount, product.total_gross.amount, product.vat_rate) == (
        Decimal("398.40"), Decimal("498.00"), Decimal("0.25"))
    assert shipping.kind is OrderLineKind.SHIPPING and shipping.name == "PostNord"
    assert (result.total_net.amount, result.total_gross.amount) == (Decimal("437.60"), Decimal("547.00"))
    assert result.customer.email == "erik.svensson@example.se"
    assert (result.billing_address.street, result.shipping_address.street) == ("Storgatan 5", "Lilla torg 1")
    assert result.currency == "SEK"


def test_created_at_is_in_the_shops_zone_and_updated_at_the_same_instant() -> None:
    result = read(order())
    assert str(result.created_at.tzinfo) == ZONE
    assert result.created_at == datetime(2024, 5, 2, 8, 11, 12, tzinfo=UTC)
    assert result.updated_at == datetime(2024, 5, 2, 8, 15, tzinfo=UTC)


def test_row_discounts_as_percent_and_amount_reduce_the_line() -> None:
    percent = read(with_item(discount=10, discountType="percent")).lines[0]
    amount = read(with_item(discount=20, discountType="amount")).lines[0]
    assert percent.total_net.amount == Decimal("358.56")
    assert amount.total_net.amount == Decimal("378.40")
    assert amount.unit_price.amount * amount.quantity == amount.total_net.amount


def test_payment_fee_becomes_a_fee_line() -> None:
    lines = read(order(paymentFee=29, paymentVatRate=25)).lines
    assert [line.kind for line in lines] == [OrderLineKind.PRODUCT, OrderLineKind.SHIPPING, OrderLineKind.FEE]
    assert lines[-1].total_gross.amount == Decimal("36.25")


def test_delivery_falls_back_to_the_invoice_address() -> None:
    result = read(order(addresses={"data": {"customerInvoice": ADDRESS}}))
    assert result.shipping_address == result.billing_address


def test_guest_email_comes_from_the_order_when_the_customer_has_none() -> None:
    result = read(order(customer={"data": {"customerId": 55}}))
    assert result.customer.email == "erik.svensson@example.se"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (order(items={"data": []}), "no item rows"),
        (order(items=None), "items: was not included"),
        (order(addresses={"data": {}}), "no an invoice address"),
        (order(currencyCode="kronor"), "currency"),
        (order(currencyCode=None), "currencyCode: is missing"),
        (order(createdAt="yesterday"), "createdAt"),
        (order(modifiedAt=None), "modifiedAt: is missing"),
        (order(statusId="1; DROP TABLE"), "statusId"),
        (order(totalAmount="NaN"), "totalAmount"),
        (order(totalAmount=1e300), "totalAmount: is out of range"),
        (order(customer={"data": {}}, originalCustomerEmail=""), "email"),
        (with_item(sku=""), "no SKU"),
        (with_item(quantity=-2), "quantity"),
        (with_item(quantity=0), "quantity"),
        (with_item(unitPrice="12,50"), "unitPrice"),
        (with_item(unitPrice=None), "unitPrice: is missing"),
        (with_item(vatRate=250), "vat_rate"),
        (with_item(discount=150, discountType="percent"), "discount"),
        (with_item(discount=-1), "discount"),
        (with_item(discountType="bogo"), "discount"),
        (with_item(sku={"$ne": 1}), "sku: is not text"),
        (order(shippingCost=-39.2), "shippingCost"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_unreadable_orders_are_data_errors_naming_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(DataError) as caught:
        read(payload)
    assert caught.value.message.startswith("order 1001") and field in caught.value.message


def test_hostile_text_is_kept_as_text_and_long_errors_are_cut() -> None:
    hostile = "<script>alert(1)</script>'; DROP TABLE orders;--"
    result = read(with_item(description=hostile))
    assert result.lines[0].name == hostile
    with pytest.raises(DataError) as caught:
        read(with_item(unitPrice="9" * 5000))
    assert len(caught.value.message) <= 301


def test_an_absurd_amount_is_refused() -> None:
    with pytest.raises(DataError):
        read(with_item(unitPrice=1e12, quantity=1000))


# --- statuses ---


def test_standard_statuses_map_by_id_code_and_the_shops_map_wins() -> None:
    assert canonical_state("3", "completed", {}) is OrderState.SHIPPED
    assert canonical_state("4", "canceled", {}) is OrderState.CANCELLED
    assert canonical_state("5", "", {}) is OrderState.UNKNOWN
    assert canonical_state("5", "", {"5": OrderState.PENDING_PAYMENT}) is OrderState.PENDING_PAYMENT
    assert canonical_state("1", "created", {"1": OrderState.PENDING_PAYMENT}) is OrderState.PENDING_PAYMENT


def test_a_custom_status_maps_through_the_state_map() -> None:
    status = {"data": {"statusId": 5, "languages": []}}
    result = read(order(statusId=5, status=status), {"5": OrderState.PENDING_PAYMENT})
    assert result.state is OrderState.PENDING_PAYMENT


# --- time ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-02T10:15:00+02:00", datetime(2024, 5, 2, 8, 15, tzinfo=UTC)),
        ("2024-05-02T08:15:00Z", datetime(2024, 5, 2, 8, 15, tzinfo=UTC)),
        ("2024-05-02T08:15:00+00:00", datetime(2024, 5, 2, 8, 15, tzinfo=UTC)),
        ("2024-05-02T03:15:00-05:00", datetime(2024, 5, 2, 8, 15, tzinfo=UTC)),
        ("2024-01-15T10:00:00", datetime(2024, 1, 15, 9, 0, tzinfo=UTC)),  # no offset: shop time, CET
        ("2024-07-15T10:00:00", datetime(2024, 7, 15, 8, 0, tzinfo=UTC)),  # no offset: shop time, CEST
        ("2024-10-27T02:30:00+02:00", datetime(2024, 10, 27, 0, 30, tzinfo=UTC)),  # the repeated hour, first
        ("2024-10-27T02:30:00+01:00", datetime(2024, 10, 27, 1, 30, tzinfo=UTC)),  # and second pass
    ],
)
def test_times_with_any_offset_read_as_the_same_instant(text: str, expected: datetime) -> None:
    parsed = parse_time(text, ZONE)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "0000-00-00 00:00:00", "2024-13-01T00:00:00+01:00", "now", None, 1714637712])
def test_unreadable_times_are_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_time(text, ZONE)


def test_summary_reads_id_status_and_utc_change_time() -> None:
    summary = summary_from_starweb(ORDER, "demo", ZONE)
    assert (summary.id, summary.shop, summary.status) == ("1001", "demo", "1")
    assert summary.updated_at == datetime(2024, 5, 2, 8, 15, tzinfo=UTC)


def test_a_summary_without_a_change_time_is_a_data_error() -> None:
    with pytest.raises(DataError, match="order 1001: modifiedAt"):
        summary_from_starweb(order(modifiedAt=None), "demo", ZONE)


def test_an_unreadable_change_time_takes_the_given_time_so_the_order_is_still_read() -> None:
    until = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    summary = summary_from_starweb(order(modifiedAt="0000-00-00"), "demo", ZONE, until)
    assert (summary.id, summary.updated_at) == ("1001", until)


@pytest.mark.parametrize("field", ["orderId", "statusId"])
def test_a_summary_without_id_or_status_is_a_data_error_even_with_a_fallback_time(field: str) -> None:
    with pytest.raises(DataError, match=field):
        summary_from_starweb(order(**{field: None}), "demo", ZONE, datetime(2024, 5, 2, tzinfo=UTC))


# --- webhooks ---


def test_webhook_names_the_shop_and_order() -> None:
    payload = {"eventId": "e1", "shopIdCode": "leksaker", "eventTimeStamp": "2024-05-02T10:15:00+02:00",
               "orderId": 1001, "orderStatusId": 1, "totalAmount": "547.00", "currencyCode": "SEK"}  # fmt: skip
    assert webhook_hints(payload) == [("leksaker", "1001")]
    assert webhook_hints({**payload, "orderId": "1001"}) == [("leksaker", "1001")]


@pytest.mark.parametrize(
    "payload",
    [None, [], "order 1", {}, {"shopIdCode": "leksaker"}, {"shopIdCode": "leksaker", "productId": 5},
     {"shopIdCode": "leksaker", "orderId": 0}, {"shopIdCode": "leksaker", "orderId": -5},
     {"shopIdCode": "leksaker", "orderId": "1 OR 1=1"}, {"shopIdCode": "leksaker", "orderId": True},
     {"shopIdCode": "leksaker", "orderId": 10**30}, {"shopIdCode": "", "orderId": 1},
     {"shopIdCode": "x" * 65, "orderId": 1}, {"shopIdCode": "a\nb", "orderId": 1}, {"shopIdCode": 7, "orderId": 1},
     {"orderId": 1}],
)
def test_webhooks_that_name_no_order_give_no_hint(payload: object) -> None:
    assert webhook_hints(payload) == []
