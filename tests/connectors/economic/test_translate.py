"""Tests of the pure conversions between canonical orders and e-conomic documents."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from shopbridge.connectors.economic import EconomicSettings
from shopbridge.connectors.economic.translate import (
    customer_to_economic,
    document_ref_from_economic,
    order_to_economic,
    vat_zone_for,
)
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import OrderLineKind, round_cents

from ..document_sink_contract import customer, discount, line, order, product, shipping

SETTINGS = EconomicSettings(app_secret_token="app", agreement_grant_token="grant")
GROUPS = {"MUG-01": 1, "BAG-TOTE": 1, "GIFTCARD": 2, "SHIPPING": 1, "FEE": 1, "DISCOUNT": 1, "ROUNDING": 2}
REFERENCE = "shop-a/default/1001"


def erp_gross(body: dict[str, Any], domestic: bool, groups: dict[str, int] = GROUPS) -> Decimal:
    """What e-conomic computes from a document body: per-line net, plus per-line VAT at home."""
    total = Decimal(0)
    for item in body["lines"]:
        net = round_cents(item["quantity"] * item["unitNetPrice"])
        rate = SETTINGS.vat_rates_by_product_group[groups[item["product"]["productNumber"]]]
        total += net + (round_cents(net * rate) if domestic else Decimal(0))
    return total


def numbers(body: dict[str, Any]) -> list[str]:
    return [item["product"]["productNumber"] for item in body["lines"]]


def test_domestic_order_becomes_a_document_with_header_recipient_and_lines() -> None:
    placed = order([product("MUG-01", "2", "79.20"), shipping()])
    body = order_to_economic(placed, 42, REFERENCE, SETTINGS, GROUPS)
    assert body["date"] == placed.created_at.date().isoformat()
    assert body["currency"] == "DKK"
    assert body["customer"] == {"customerNumber": 42}
    assert body["layout"] == {"layoutNumber": SETTINGS.layout_number}
    assert body["paymentTerms"] == {"paymentTermsNumber": SETTINGS.payment_terms_number}
    assert body["recipient"] == {"name": "Anna Jensen", "address": "Vestergade 12", "zip": "8000",
                                 "city": "Aarhus C", "country": "Denmark", "vatZone": {"vatZoneNumber": 1}}  # fmt: skip
    assert body["delivery"]["country"] == "Denmark"
    assert body["references"] == {"other": REFERENCE}
    assert body["notes"]["heading"] == f"Webshop order {placed.reference}"
    assert numbers(body) == ["MUG-01", SETTINGS.shipping_product]
    assert body["lines"][0]["quantity"] == Decimal(2)
    assert body["lines"][0]["unitNetPrice"] == Decimal("79.20")
    assert erp_gross(body, domestic=True) == placed.total_gross.amount


def test_document_date_is_the_shops_local_day() -> None:
    late_evening_in_copenhagen = datetime(2024, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=1)))
    placed = order([product("MUG-01", "1", "79.20")]).model_copy(update={"created_at": late_evening_in_copenhagen})
    assert order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)["date"] == "2024-12-31"
    # Half past midnight on New Year's Day in Copenhagen is still the old year in UTC, not in the books.
    placed = placed.model_copy(update={"created_at": datetime(2025, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))})
    assert order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)["date"] == "2025-01-01"


def test_zero_rated_gift_card_passes_the_vat_check_on_a_vat_free_group() -> None:
    placed = order([product("MUG-01", "1", "79.20"), product("GIFTCARD", "1", "400.00", vat_rate="0")])
    body = order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
    assert numbers(body) == ["MUG-01", "GIFTCARD"]
    assert erp_gross(body, domestic=True) == placed.total_gross.amount


def test_discount_is_one_negative_line_on_the_discount_product() -> None:
    placed = order([product("MUG-01", "3", "79.20"), discount("20.00")])
    discount_line = order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)["lines"][1]
    assert discount_line["product"] == {"productNumber": SETTINGS.discount_product}
    assert discount_line["quantity"] == 1
    assert discount_line["unitNetPrice"] == Decimal("-20.00")


def test_shipping_and_fee_lines_use_the_configured_products() -> None:
    fee = line(OrderLineKind.FEE, "Invoice fee", "1", "23.20", "0.25")
    settings = SETTINGS.model_copy(update={"shipping_product": "FRAGT", "fee_product": "GEBYR"})
    groups = GROUPS | {"FRAGT": 1, "GEBYR": 1}
    body = order_to_economic(order([product("MUG-01", "1", "79.20"), shipping(), fee]), 1, REFERENCE, settings, groups)
    assert numbers(body) == ["MUG-01", "FRAGT", "GEBYR"]
    assert [item["description"] for item in body["lines"][1:]] == ["Delivery to a pick-up point", "Invoice fee"]


def test_foreign_eu_customer_without_vat_goes_to_the_eu_zone_without_vat_check() -> None:
    buyer = customer("erik.svensson@example.se", country="SE")
    placed = order([product("MUG-01", "2", "79.20", vat_rate="0")], buyer=buyer)
    body = order_to_economic(placed, 7, REFERENCE, SETTINGS, GROUPS)
    assert vat_zone_for(placed, SETTINGS) == SETTINGS.vat_zone_eu
    assert body["recipient"]["vatZone"] == {"vatZoneNumber": SETTINGS.vat_zone_eu}
    assert body["recipient"]["country"] == "Sweden"
    assert erp_gross(body, domestic=False) == placed.total_gross.amount


def test_customer_outside_the_eu_without_vat_goes_to_the_abroad_zone() -> None:
    placed = order([product("MUG-01", "1", "79.20", vat_rate="0")], buyer=customer("ola@example.no", country="NO"))
    assert vat_zone_for(placed, SETTINGS) == SETTINGS.vat_zone_abroad


def test_foreign_customer_charged_vat_stays_in_the_domestic_zone() -> None:
    placed = order([product("MUG-01", "1", "79.20")], buyer=customer("erik@example.se", country="SE"))
    assert vat_zone_for(placed, SETTINGS) == SETTINGS.vat_zone_domestic


def test_home_customer_without_vat_lines_is_still_domestic() -> None:
    placed = order([product("GIFTCARD", "1", "400.00", vat_rate="0")])
    assert vat_zone_for(placed, SETTINGS) == SETTINGS.vat_zone_domestic


def test_unit_net_price_is_rounded_half_up_to_two_decimals() -> None:
    placed = order([product("MUG-01", "1", "10.125")])
    body = order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
    assert body["lines"][0]["unitNetPrice"] == Decimal("10.13")


@pytest.mark.parametrize("shop_total_offset", ["0.01", "-0.01", "0.37", "-1.00"])
def test_ore_difference_within_tolerance_gets_a_vat_free_rounding_line(shop_total_offset: str) -> None:
    lines = [product("BAG-TOTE", "3", "99.99"), product("MUG-01", "1", "79.20")]
    exact = order(lines).total_gross.amount
    placed = order(lines, total_gross=exact + Decimal(shop_total_offset))
    body = order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
    rounding = body["lines"][-1]
    assert rounding["product"] == {"productNumber": SETTINGS.rounding_product}
    assert rounding["quantity"] == 1
    assert rounding["unitNetPrice"] == Decimal(shop_total_offset)
    assert erp_gross(body, domestic=True) == placed.total_gross.amount


def test_unit_price_with_more_decimals_is_settled_by_a_rounding_line() -> None:
    # 3 × 33.3333 is 100.00 in the shop but 99.99 once the unit price has two decimals.
    placed = order([product("MUG-01", "3", "33.3333")])
    body = order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
    assert numbers(body) == ["MUG-01", SETTINGS.rounding_product]
    assert erp_gross(body, domestic=True) == placed.total_gross.amount


def test_no_rounding_line_when_totals_agree() -> None:
    body = order_to_economic(order([product("BAG-TOTE", "3", "99.99")]), 1, REFERENCE, SETTINGS, GROUPS)
    assert SETTINGS.rounding_product not in numbers(body)


def test_vat_rate_that_differs_from_the_product_group_is_a_data_error() -> None:
    placed = order([product("MUG-01", "1", "79.20", vat_rate="0.12", name="Stoneware mug")])
    with pytest.raises(DataError) as caught:
        order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
    assert "'Stoneware mug' has VAT 12 % but e-conomic product group 1 applies 25 %" in caught.value.message


def test_difference_beyond_tolerance_is_a_data_error_naming_both_totals() -> None:
    lines = [product("MUG-01", "1", "79.20")]
    placed = order(lines, total_gross=order(lines).total_gross.amount + Decimal("1.01"))
    with pytest.raises(DataError) as caught:
        order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
    assert str(placed.total_gross.amount) in caught.value.message
    assert str(order(lines).total_gross.amount) in caught.value.message


def test_rounding_product_with_vat_is_a_config_error() -> None:
    lines = [product("MUG-01", "1", "79.20")]
    placed = order(lines, total_gross=order(lines).total_gross.amount + Decimal("0.01"))
    with pytest.raises(ConfigError):
        order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS | {"ROUNDING": 1})


def test_product_group_without_a_configured_rate_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        order_to_economic(order([product("MUG-01", "1", "79.20")]), 1, REFERENCE, SETTINGS, GROUPS | {"MUG-01": 9})


@pytest.mark.parametrize("reference", ["", "x" * 251])
def test_reference_that_does_not_fit_references_other_is_refused(reference: str) -> None:
    with pytest.raises(DataError):
        order_to_economic(order([product("MUG-01", "1", "79.20")]), 1, reference, SETTINGS, GROUPS)


def test_empty_fields_are_left_out_because_e_conomic_rejects_nulls() -> None:
    body = order_to_economic(order([product("MUG-01", "1", "79.20")]), 1, REFERENCE, SETTINGS, GROUPS)
    assert "textLine1" not in body["notes"]
    assert all(value not in ("", None) for value in body["recipient"].values())


def test_customer_gets_name_currency_groups_zone_terms_and_address() -> None:
    buyer = customer(company="Fabrik ApS", phone="+4512345678")
    body = customer_to_economic(buyer, order([product("MUG-01", "1", "79.20")], buyer=buyer), SETTINGS)
    assert body == {
        "name": "Fabrik ApS", "currency": "DKK", "customerGroup": {"customerGroupNumber": 1},
        "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": 1},
        "email": buyer.email, "telephoneAndFaxNumber": "+4512345678", "address": "Vestergade 12",
        "zip": "8000", "city": "Aarhus C", "country": "Denmark",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"first_name": "Anna", "last_name": "Jensen"}, "Anna Jensen"),
        ({"first_name": "", "last_name": ""}, "x@example.dk"),
    ],
)
def test_customer_name_falls_back_from_company_to_full_name_to_email(fields: dict[str, str], expected: str) -> None:
    buyer = customer("x@example.dk", **fields)
    payload = customer_to_economic(buyer, order([product("MUG-01", "1", "79.20")], buyer=buyer), SETTINGS)
    assert payload["name"] == expected


def test_foreign_customer_is_put_in_the_foreign_group() -> None:
    buyer = customer("erik@example.se", country="SE")
    body = customer_to_economic(buyer, order([product("MUG-01", "1", "79.20", vat_rate="0")], buyer=buyer), SETTINGS)
    assert body["customerGroup"] == {"customerGroupNumber": SETTINGS.customer_group_foreign}
    assert body["vatZone"] == {"vatZoneNumber": SETTINGS.vat_zone_eu}


@pytest.mark.parametrize(
    ("collection", "field", "kind"),
    [
        ("invoices/booked", "bookedInvoiceNumber", "booked_invoice"),
        ("invoices/drafts", "draftInvoiceNumber", "draft_invoice"),
        ("orders/drafts", "orderNumber", "order"),
        ("orders/sent", "orderNumber", "sent_order"),
        ("orders/archived", "orderNumber", "archived_order"),
    ],
)
def test_document_ref_names_the_state_number_and_reference(collection: str, field: str, kind: str) -> None:
    payload = {field: 31, "references": {"other": REFERENCE}, "grossAmount": Decimal("99.00")}
    ref = document_ref_from_economic(collection, payload)
    assert (ref.kind, ref.number, ref.reference) == (kind, "31", REFERENCE)
    assert ref.extra["gross_amount"] == "99.00"


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["MUG-01", "GIFTCARD"]),
            st.integers(min_value=1, max_value=20),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.9999"), places=4),
        ),
        min_size=1,
        max_size=6,
    ),
    st.decimals(min_value=Decimal("-0.50"), max_value=Decimal("0.50"), places=2),
)
def test_e_conomic_arrives_at_the_shops_gross_total(
    items: list[tuple[str, int, Decimal]], shop_rounding: Decimal
) -> None:
    lines = [product(sku, str(qty), str(price), "0" if sku == "GIFTCARD" else "0.25") for sku, qty, price in items]
    placed = order(lines, total_gross=order(lines).total_gross.amount + shop_rounding)
    body = order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
    assert erp_gross(body, domestic=True) == placed.total_gross.amount


def test_a_discount_split_per_vat_rate_uses_a_discount_product_per_rate() -> None:
    settings = SETTINGS.model_copy(update={"discount_products_by_vat": {"0": "DISCOUNT0"}})
    groups = GROUPS | {"DISCOUNT0": 2}
    placed = order([product("MUG-01", "1", "240.00"), product("GIFTCARD", "1", "400.00", "0"),
                    discount("40.00", "0"), discount("24.00")])  # fmt: skip
    body = order_to_economic(placed, 1, REFERENCE, settings, groups)
    assert numbers(body) == ["MUG-01", "GIFTCARD", "DISCOUNT0", "DISCOUNT"]
    assert erp_gross(body, domestic=True, groups=groups) == placed.total_gross.amount


def test_a_zero_rated_discount_without_its_own_product_names_the_setting() -> None:
    placed = order([product("MUG-01", "1", "240.00"), product("GIFTCARD", "1", "400.00", "0"),
                    discount("40.00", "0"), discount("24.00")])  # fmt: skip
    with pytest.raises(DataError, match="discount_products_by_vat"):
        order_to_economic(placed, 1, REFERENCE, SETTINGS, GROUPS)
