from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from shopbridge.model import Address, Customer, Money, Order, OrderLine, OrderLineKind, OrderState


def line(**overrides: Any) -> OrderLine:
    values: dict[str, Any] = {
        "kind": OrderLineKind.PRODUCT,
        "name": "Mug",
        "sku": "MUG-01",
        "quantity": Decimal("2"),
        "unit_price": Money.of("79.20", "DKK"),
        "vat_rate": Decimal("0.25"),
        "total_net": Money.of("158.40", "DKK"),
        "total_gross": Money.of("198.00", "DKK"),
    }
    values.update(overrides)
    return OrderLine(**values)


def order(**overrides: Any) -> Order:
    values: dict[str, Any] = {
        "id": "17",
        "created_at": datetime(2026, 3, 1, 12, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 1, 12, tzinfo=UTC),
        "currency": "DKK",
        "customer": Customer(email="Anna@Example.DK"),
        "billing_address": Address(country="dk"),
        "shipping_address": Address(country="DK"),
        "lines": [line()],
        "total_net": Money.of("158.40", "DKK"),
        "total_gross": Money.of("198.00", "DKK"),
    }
    values.update(overrides)
    return Order(**values)


def test_order_line_vat_is_gross_minus_net() -> None:
    assert line().total_vat == Money.of("39.60", "DKK")


def test_priced_line_rounds_totals_to_cents() -> None:
    priced = OrderLine.priced(
        OrderLineKind.PRODUCT, "Cap", Decimal(3), Money.of("119.96", "DKK"), Decimal("0.25"), "CAP"
    )
    assert priced.total_net.amount == Decimal("359.88")
    assert priced.total_gross.amount == Decimal("449.85")


@pytest.mark.parametrize("quantity", ["0", "-1", "1000000", "NaN"])
def test_order_line_refuses_impossible_quantities(quantity: str) -> None:
    with pytest.raises(ValidationError, match="quantity"):
        line(quantity=Decimal(quantity))


@pytest.mark.parametrize("rate", ["-0.01", "1", "25"])
def test_order_line_refuses_vat_rates_outside_a_fraction(rate: str) -> None:
    with pytest.raises(ValidationError, match="vat_rate"):
        line(vat_rate=Decimal(rate))


def test_product_line_needs_a_sku() -> None:
    with pytest.raises(ValidationError, match="has no SKU"):
        line(sku="")


def test_shipping_line_needs_no_sku() -> None:
    assert line(kind=OrderLineKind.SHIPPING, sku="").sku == ""


def test_line_refuses_control_characters_in_names() -> None:
    with pytest.raises(ValidationError, match="control characters"):
        line(name="Mug\x00; DROP TABLE")


def test_order_refuses_lines_in_another_currency() -> None:
    foreign = line(unit_price=Money.of("10", "SEK"), total_net=Money.of("20", "SEK"), total_gross=Money.of("25", "SEK"))
    with pytest.raises(ValidationError, match="order in DKK"):
        order(lines=[foreign])


def test_order_refuses_naive_datetimes() -> None:
    with pytest.raises(ValidationError):
        order(created_at=datetime(2026, 3, 1, 12))


def test_order_needs_at_least_one_line() -> None:
    with pytest.raises(ValidationError):
        order(lines=[])


def test_order_keeps_aware_times_in_their_offset() -> None:
    local = datetime(2026, 3, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert order(updated_at=local).updated_at == datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f"])
def test_customer_email_refuses_control_characters(control: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        Customer(email=f"anna{control}@example.dk")


def test_customer_email_is_normalised_and_validated() -> None:
    assert order().customer.email == "anna@example.dk"
    with pytest.raises(ValidationError, match="email"):
        Customer(email="not an email")


def test_address_country_must_be_iso_alpha2() -> None:
    assert Address(country="se").country == "SE"
    with pytest.raises(ValidationError, match="ISO 3166"):
        Address(country="Sweden")


def test_order_state_defaults_to_unknown() -> None:
    assert order().state is OrderState.UNKNOWN
