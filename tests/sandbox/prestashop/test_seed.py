"""The PrestaShop emulator's seeded shop and the orders it places: catalog, totals, rounding, state changes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from shopbridge.sandbox import catalog
from shopbridge.sandbox.prestashop import PrestaShopState, add_product, place_order, seeded_state, set_order_state
from tests.sandbox.prestashop.support import FakeClock

CENT = Decimal("0.01")
SHOP = seeded_state(clock=FakeClock())


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def details_of(state: PrestaShopState, order_id: int) -> list[dict[str, str]]:
    return [row for row in state.tables["order_details"].values() if row["id_order"] == str(order_id)]


def stock_of(state: PrestaShopState, sku: str) -> int:
    combination = next((row for row in state.tables["combinations"].values() if row["reference"] == sku), None)
    if combination is not None:
        product_id, attribute_id = combination["id_product"], str(combination["id"])
    else:
        product_id = str(next(row["id"] for row in state.tables["products"].values() if row["reference"] == sku))
        attribute_id = "0"
    (row,) = [row for row in state.tables["stock_availables"].values()
              if (row["id_product"], row["id_product_attribute"]) == (product_id, attribute_id)]
    return int(row["quantity"])


lines_strategy = st.lists(st.tuples(st.sampled_from(catalog.all_skus()), st.integers(1, 5)), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines_strategy, discount=st.decimals(0, 50, places=2))
def test_order_totals_add_up_from_its_rows_shipping_and_discount(
    lines: list[tuple[str, int]], discount: Decimal
) -> None:
    state = seeded_state(clock=FakeClock())
    order = state.tables["orders"][place_order(state, lines=lines, discount_percent=discount)]
    rows = details_of(state, int(order["id"]))
    rows_incl = sum(Decimal(row["total_price_tax_incl"]) for row in rows)
    rows_excl = sum(Decimal(row["total_price_tax_excl"]) for row in rows)
    assert rows_incl == Decimal(order["total_products_wt"]) and rows_excl == Decimal(order["total_products"])
    paid_incl = rows_incl + Decimal(order["total_shipping_tax_incl"]) - Decimal(order["total_discounts_tax_incl"])
    paid_excl = rows_excl + Decimal(order["total_shipping_tax_excl"]) - Decimal(order["total_discounts_tax_excl"])
    assert paid_incl == Decimal(order["total_paid_tax_incl"]) == Decimal(order["total_paid"])
    assert paid_excl == Decimal(order["total_paid_tax_excl"])
    assert Decimal(order["total_discounts_tax_incl"]) == cents(rows_incl * discount / 100)


def test_amounts_are_stored_with_six_decimals() -> None:
    state = seeded_state(clock=FakeClock())
    order = state.tables["orders"][place_order(state, lines=[("MUG-01", 1)])]
    assert order["total_products"] == "79.200000" and order["carrier_tax_rate"] == "25.000"


def test_tax_is_rounded_per_item_before_multiplying() -> None:
    state = seeded_state(clock=FakeClock())
    (row,) = details_of(state, place_order(state, lines=[("BAG-TOTE", 3)]))
    unit_incl = Decimal("99.99") * (1 + catalog.VAT_RATE)
    assert Decimal(row["unit_price_tax_incl"]) == unit_incl
    assert Decimal(row["total_price_tax_incl"]) == cents(unit_incl) * 3 != cents(unit_incl * 3)


def test_a_combination_line_carries_the_variant_sku_price_and_attributes() -> None:
    state = seeded_state(clock=FakeClock())
    (row,) = details_of(state, place_order(state, lines=[("TEE-L-WHI", 1)]))
    assert row["product_reference"] == "TEE-L-WHI" and row["product_attribute_id"] != "0"
    assert row["product_name"] == "Organic T-shirt - Size : L, Colour : White"
    assert Decimal(row["unit_price_tax_excl"]) == Decimal("159.20") + Decimal("8.00")


def test_placing_an_order_takes_the_stock() -> None:
    state = seeded_state(clock=FakeClock())
    before = stock_of(state, "TEE-S-BLA"), stock_of(state, "TEE"), stock_of(state, "CAP-01")
    place_order(state, lines=[("TEE-S-BLA", 2), ("CAP-01", 1)])
    assert (stock_of(state, "TEE-S-BLA"), stock_of(state, "TEE"), stock_of(state, "CAP-01")) == (
        before[0] - 2, before[1] - 2, before[2] - 1)


def test_a_discount_is_stored_as_an_order_cart_rule() -> None:
    state = seeded_state(clock=FakeClock())
    order_id = place_order(state, lines=[("CAP-01", 2)], discount_percent=Decimal("10"))
    (rule,) = [row for row in state.tables["order_cart_rules"].values() if row["id_order"] == str(order_id)]
    order = state.tables["orders"][order_id]
    assert Decimal(rule["value"]) == Decimal(order["total_discounts_tax_incl"]) > 0
    assert Decimal(rule["value_tax_excl"]) == Decimal(order["total_discounts_tax_excl"])


def test_an_unpaid_order_records_its_payment_when_it_becomes_paid() -> None:
    state = seeded_state(clock=FakeClock())
    order_id = place_order(state, status=10)
    order = state.tables["orders"][order_id]
    assert (order["valid"], order["total_paid_real"], order["invoice_number"]) == ("0", "0.000000", "0")
    set_order_state(state, order_id, 2)
    payments = state.tables["order_payments"].values()
    (payment,) = [row for row in payments if row["order_reference"] == order["reference"]]
    assert payment["amount"] == order["total_paid"] == order["total_paid_real"]
    assert order["valid"] == "1" and order["invoice_number"] != "0" and order["current_state"] == "2"


def test_orders_fill_the_fields_a_checkout_would() -> None:
    state = seeded_state(clock=FakeClock())
    order = state.tables["orders"][place_order(state, customer_email="erik.svensson@example.se")]
    customer = state.tables["customers"][int(order["id_customer"])]
    address = state.tables["addresses"][int(order["id_address_delivery"])]
    assert customer["email"] == "erik.svensson@example.se" and address["id_customer"] == str(customer["id"])
    assert order["reference"].isalpha() and order["reference"].isupper() and len(order["reference"]) == 9
    assert order["secure_key"] == customer["secure_key"] and order["module"] and order["payment"]
    assert (order["id_shop"], order["id_currency"], order["date_add"]) == ("1", "1", state.now())
    carriers = [row for row in state.tables["order_carriers"].values() if row["id_order"] == str(order["id"])]
    assert [row["tracking_number"] for row in carriers] == [""]


def test_unknown_sku_customer_or_state_is_refused() -> None:
    state = seeded_state(clock=FakeClock())
    for kwargs in ({"lines": [("NOPE", 1)]}, {"customer_email": "nobody@example.dk"}, {"status": 99}):
        with pytest.raises(ValueError):
            place_order(state, **kwargs)  # type: ignore[arg-type]


def test_seeding_is_deterministic_for_a_seed() -> None:
    first, again, other = (seeded_state(seed, orders=5, clock=FakeClock()) for seed in (1, 1, 2))
    assert first.tables == again.tables
    assert first.tables["orders"] != other.tables["orders"]


def test_the_seeded_catalog_is_the_demo_catalog() -> None:
    references = {row["reference"] for row in SHOP.tables["combinations"].values()}
    references |= {row["reference"] for row in SHOP.tables["products"].values()}
    assert set(catalog.all_skus()) <= references
    tee = next(row for row in SHOP.tables["products"].values() if row["reference"] == "TEE")
    large = next(row for row in SHOP.tables["combinations"].values() if row["reference"] == "TEE-L-BLA")
    assert (tee["price"], large["price"], large["id_product"]) == ("159.200000", "8.000000", str(tee["id"]))
    assert stock_of(SHOP, "TEE") == sum(stock_of(SHOP, variant.sku) for variant in catalog.DEMO_PRODUCTS[1].variants)


def test_the_seeded_shop_has_the_base_data_clients_read() -> None:
    states = SHOP.tables["order_states"]
    assert states[2]["name"][1] == "Payment accepted" and states[2]["paid"] == "1" and states[2]["logable"] == "1"
    assert states[10]["name"][1] == "Awaiting bank wire payment" and states[10]["paid"] == "0"
    assert {row["iso_code"] for row in SHOP.tables["countries"].values()} == {"DK", "SE", "NO", "DE"}
    assert "@" in SHOP.tables["carriers"][1]["url"] and SHOP.tables["currencies"][1]["iso_code"] == "DKK"
    assert sorted(SHOP.tables["groups"]) == [1, 2, 3] and len(SHOP.tables["customers"]) == len(catalog.DEMO_CUSTOMERS)


def test_an_added_product_is_sold_at_its_net_price_and_vat_rate() -> None:
    state = seeded_state(clock=FakeClock())
    add_product(state, "BOOK-1", "Cookbook", Decimal("200.00"), Decimal("0"))
    (row,) = details_of(state, place_order(state, lines=[("BOOK-1", 1)]))
    prices = (row["unit_price_tax_excl"], row["unit_price_tax_incl"], row["tax_rate"])
    assert prices == ("200.000000", "200.000000", "0.000")
