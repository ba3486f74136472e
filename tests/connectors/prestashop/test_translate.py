"""Tests of the pure conversions from PrestaShop payloads to canonical orders and back to time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from shopbridge.connectors.prestashop.translate import (
    canonical_state,
    derived_rate,
    local_readings,
    local_to_utc,
    local_window,
    order_from_prestashop,
    summaries_in_window,
    summary_from_prestashop,
    utc_to_local,
    within_window,
)
from shopbridge.errors import DataError
from shopbridge.model import Order, OrderLineKind, OrderState

from .payloads import (
    COUNTRY_ISO,
    address_payload,
    combination_detail_payload,
    customer_payload,
    detail_payload,
    order_payload,
    swedish_address_payload,
)

CPH = "Europe/Copenhagen"
SPRING_FORWARD = datetime(2024, 3, 31, 1, 0, tzinfo=UTC)  # 02:00 CET becomes 03:00 CEST
FALL_BACK = datetime(2024, 10, 27, 1, 0, tzinfo=UTC)  # 03:00 CEST becomes 02:00 CET


def translate(
    order: dict[str, Any] | None = None,
    details: list[dict[str, Any]] | None = None,
    customer: dict[str, Any] | None = None,
    invoice: dict[str, Any] | None = None,
    state_map: dict[str, OrderState] | None = None,
    currency: str = "DKK",
) -> Order:
    return order_from_prestashop(
        order or order_payload(),
        details if details is not None else [detail_payload(), combination_detail_payload()],
        customer or customer_payload(),
        address_payload(id=11),
        invoice or address_payload(),
        country_iso=COUNTRY_ISO,
        currency_iso=currency,
        carrier_name="PostNord",
        timezone=CPH,
        state_map=state_map or {},
    )


def lines_of(order: Order, kind: OrderLineKind) -> list[Any]:
    return [line for line in order.lines if line.kind is kind]


# --- the order header ---


def test_order_header_comes_from_the_order_record() -> None:
    order = translate()
    assert (order.id, order.shop, order.reference, order.status) == ("7", "1", "XKBKNABJK", "2")
    assert order.state is OrderState.PAID
    assert order.currency == "DKK"


def test_shop_local_dates_become_aware_times_in_the_shops_zone() -> None:
    order = translate()
    assert order.created_at == datetime(2024, 6, 3, 8, 15, tzinfo=UTC)  # CEST is UTC+2
    assert order.updated_at == datetime(2024, 6, 3, 9, 0, 5, tzinfo=UTC)
    assert order.created_at.utcoffset() == timedelta(hours=2)
    assert (order.created_at.date(), order.created_at.hour) == (date(2024, 6, 3), 10)


def test_an_order_placed_after_local_midnight_keeps_the_local_day() -> None:
    order = translate(order_payload(date_add="2025-01-01 00:30:00", date_upd="2025-01-01 00:30:00"))
    assert order.created_at.date() == date(2025, 1, 1)


def test_order_totals_are_total_paid_excl_and_incl_rounded_to_cents() -> None:
    order = translate(order_payload(total_paid_tax_excl="298.404999", total_paid_tax_incl="373.005000"))
    assert order.total_net.amount == Decimal("298.40")
    assert order.total_gross.amount == Decimal("373.01")


def test_zero_update_date_falls_back_to_the_creation_date() -> None:
    order = translate(order_payload(date_upd="0000-00-00 00:00:00"))
    assert order.updated_at == order.created_at


def test_zero_creation_date_is_a_data_error_naming_the_field() -> None:
    with pytest.raises(DataError, match=r"order 7: date_add"):
        translate(order_payload(date_add="0000-00-00 00:00:00"))


def test_state_map_overrides_the_default_map_for_one_status() -> None:
    assert translate(state_map={"2": OrderState.PROCESSING}).state is OrderState.PROCESSING


@pytest.mark.parametrize(
    ("status", "state"),
    [("1", OrderState.PENDING_PAYMENT), ("2", OrderState.PAID), ("4", OrderState.SHIPPED),
     ("6", OrderState.CANCELLED), ("7", OrderState.REFUNDED), ("8", OrderState.PAYMENT_ERROR),
     ("12", OrderState.PAID), ("99", OrderState.UNKNOWN)],
)
def test_canonical_state_follows_the_default_install_ids(status: str, state: OrderState) -> None:
    assert canonical_state(status, {}) is state


# --- customer and addresses ---


def test_customer_email_is_lower_case_and_addresses_carry_iso_countries() -> None:
    order = translate()
    assert order.customer.email == "mette.jensen@example.dk"
    assert order.customer.phone == "+45 20 30 40 50"
    assert order.billing_address.country == "DK"
    assert order.shipping_address.street == "Nørregade 1"


def test_foreign_business_customer_takes_company_and_vat_number_from_the_invoice_address() -> None:
    order = translate(invoice=swedish_address_payload())
    assert order.customer.company == "Kaffebolaget AB"
    assert order.customer.vat_number == "SE556677889901"
    assert order.customer.address.country == "SE"
    assert order.shipping_address.country == "DK"


def test_address_in_a_country_without_known_iso_code_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"invoice address: id_country"):
        translate(invoice=address_payload(id_country="99"))


def test_customer_without_email_is_a_data_error_naming_email() -> None:
    customer = customer_payload()
    del customer["email"]
    with pytest.raises(DataError, match=r"order 7: customer: email"):
        translate(customer=customer)


# --- lines ---


def test_product_line_carries_sku_quantity_net_unit_price_vat_and_rounded_totals() -> None:
    mug = lines_of(translate(), OrderLineKind.PRODUCT)[0]
    assert (mug.sku, mug.name, mug.quantity) == ("MUG-01", "Stoneware mug", Decimal(2))
    assert mug.unit_price.amount == Decimal("79.2")
    assert mug.vat_rate == Decimal("0.25")
    assert (mug.total_net.amount, mug.total_gross.amount) == (Decimal("158.40"), Decimal("198.00"))


def test_combination_line_uses_the_combination_reference_as_sku() -> None:
    skus = [line.sku for line in lines_of(translate(), OrderLineKind.PRODUCT)]
    assert skus == ["MUG-01", "TEE-L-BLA"]


def test_vat_rate_is_derived_from_unit_prices_when_the_row_has_no_tax_rate() -> None:
    row = detail_payload(unit_price_tax_excl="79.200000", unit_price_tax_incl="95.832000")
    del row["tax_rate"]
    assert lines_of(translate(details=[row]), OrderLineKind.PRODUCT)[0].vat_rate == Decimal("0.2100")


def test_derived_rate_is_rounded_to_four_decimals_and_zero_for_free_items() -> None:
    assert derived_rate(Decimal("3"), Decimal("3.7500001")) == Decimal("0.2500")
    assert derived_rate(Decimal("0"), Decimal("0")) == Decimal("0")


def test_shipping_line_is_named_after_the_carrier_with_the_carrier_tax_rate() -> None:
    (shipping,) = lines_of(translate(), OrderLineKind.SHIPPING)
    assert shipping.name == "PostNord"
    assert shipping.vat_rate == Decimal("0.25")
    assert (shipping.total_net.amount, shipping.total_gross.amount) == (Decimal("40.00"), Decimal("50.00"))


def test_free_shipping_gives_no_shipping_line() -> None:
    order = translate(order_payload(total_shipping_tax_excl="0.000000", total_shipping_tax_incl="0.000000"))
    assert lines_of(order, OrderLineKind.SHIPPING) == []


def test_discount_becomes_one_negative_line_with_a_derived_vat_rate() -> None:
    order = translate(order_payload(total_discounts_tax_excl="20.000000", total_discounts_tax_incl="25.000000"))
    (discount,) = lines_of(order, OrderLineKind.DISCOUNT)
    assert discount.quantity == 1
    assert (discount.total_net.amount, discount.total_gross.amount) == (Decimal("-20.00"), Decimal("-25.00"))
    assert discount.vat_rate == Decimal("0.2500")
    assert lines_of(translate(), OrderLineKind.DISCOUNT) == []


def test_gift_wrapping_becomes_a_fee_line() -> None:
    order = translate(order_payload(total_wrapping_tax_excl="8.000000", total_wrapping_tax_incl="10.000000"))
    (fee,) = lines_of(order, OrderLineKind.FEE)
    assert (fee.name, fee.total_gross.amount, fee.vat_rate) == ("Gift wrapping", Decimal("10.00"), Decimal("0.2500"))


# --- one clear error for a bad order ---


def test_line_without_reference_is_a_data_error_saying_it_has_no_sku() -> None:
    with pytest.raises(DataError, match=r"order 7: line 2: product_reference.*no SKU"):
        translate(details=[detail_payload(), combination_detail_payload(product_reference=" ")])


def test_order_without_details_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"order 7: order_details"):
        translate(details=[])


@pytest.mark.parametrize("field", ["product_quantity", "unit_price_tax_excl", "product_name", "total_price_tax_incl"])
def test_missing_line_field_is_a_data_error_naming_it(field: str) -> None:
    row = detail_payload()
    del row[field]
    with pytest.raises(DataError, match=rf"order 7: line 1: {field}: is missing"):
        translate(details=[row])


@pytest.mark.parametrize(
    ("field", "value"),
    [("product_quantity", "0"), ("product_quantity", "-1"), ("product_quantity", "1e9"),
     ("unit_price_tax_excl", "NaN"), ("unit_price_tax_excl", "abc"), ("total_price_tax_excl", "1e15"),
     ("total_price_tax_incl", "Infinity"), ("unit_price_tax_excl", 1.5)],
)
def test_absurd_line_amounts_are_data_errors(field: str, value: object) -> None:
    with pytest.raises(DataError, match=r"order 7: line 1"):
        translate(details=[detail_payload(**{field: value})])


def test_absurd_order_total_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"order 7: .*total"):
        translate(order_payload(total_paid_tax_incl="99999999999.000000"))


def test_control_characters_in_a_name_are_a_data_error() -> None:
    with pytest.raises(DataError, match=r"order 7: line 1: name"):
        translate(details=[detail_payload(product_name="Mug\x00\x1b[31m")])


def test_ten_kilobyte_name_is_a_short_data_error_that_does_not_echo_the_name() -> None:
    with pytest.raises(DataError) as caught:
        translate(details=[detail_payload(product_name="A" * 10_240)])
    assert "line 1: name" in caught.value.message
    assert len(caught.value.message) < 400


def test_unknown_currency_code_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"order 7: .*currency"):
        translate(currency="kroner")


def test_garbled_id_field_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"current_state: is not an id"):
        translate(order_payload(current_state="2; DROP TABLE"))


# --- summaries ---


def test_summary_takes_id_shop_status_and_utc_update_time() -> None:
    row = {"id": 42, "current_state": "3", "date_upd": "2024-01-15 12:00:00", "id_shop": "2"}
    summary = summary_from_prestashop(row, CPH)
    assert (summary.id, summary.shop, summary.status) == ("42", "2", "3")
    assert summary.updated_at == datetime(2024, 1, 15, 11, 0, tzinfo=UTC)


def test_summary_without_shop_belongs_to_shop_one() -> None:
    row = {"id": 42, "current_state": "3", "date_upd": "2024-01-15 12:00:00"}
    assert summary_from_prestashop(row, CPH).shop == "1"


def test_summary_with_garbled_date_is_a_data_error_naming_the_order() -> None:
    row = {"id": 42, "current_state": "3", "date_upd": "yesterday"}
    with pytest.raises(DataError, match=r"order 42: date_upd"):
        summary_from_prestashop(row, CPH)


# --- time and daylight saving (Europe/Copenhagen, last Sundays of March and October) ---


def test_utc_to_local_prints_the_shop_wall_clock() -> None:
    assert utc_to_local(datetime(2024, 1, 15, 11, 0, tzinfo=UTC), CPH) == "2024-01-15 12:00:00"
    assert utc_to_local(datetime(2024, 7, 15, 11, 0, tzinfo=UTC), CPH) == "2024-07-15 13:00:00"


def test_repeated_autumn_hour_reads_as_the_earlier_instant() -> None:
    assert local_to_utc("2024-10-27 02:30:00", CPH) == FALL_BACK - timedelta(minutes=30)
    assert local_readings("2024-10-27 02:30:00", CPH)[1] == FALL_BACK + timedelta(minutes=30)


def test_skipped_spring_hour_reads_as_the_earlier_instant() -> None:
    assert local_to_utc("2024-03-31 02:30:00", CPH) == SPRING_FORWARD - timedelta(minutes=30)
    assert local_to_utc("2024-03-31 03:00:00", CPH) == SPRING_FORWARD


def test_both_passes_of_the_repeated_hour_print_the_same_wall_clock() -> None:
    first = utc_to_local(FALL_BACK - timedelta(minutes=30), CPH)
    second = utc_to_local(FALL_BACK + timedelta(minutes=30), CPH)
    assert first == second == "2024-10-27 02:30:00"


def test_window_without_a_transition_filters_on_the_exact_wall_clock_bounds() -> None:
    since, until = datetime(2024, 6, 3, 8, 0, tzinfo=UTC), datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
    assert local_window(since, until, CPH) == ("2024-06-03 10:00:00", "2024-06-03 11:00:00")


def test_window_inside_the_repeated_hour_widens_to_cover_both_passes() -> None:
    since, until = FALL_BACK - timedelta(minutes=30), FALL_BACK + timedelta(minutes=30)
    low, high = local_window(since, until, CPH)
    assert low <= "2024-10-27 02:00:00" and high >= "2024-10-27 02:59:59"


def test_rows_matched_only_by_the_widened_window_are_left_out() -> None:
    since, until = FALL_BACK + timedelta(minutes=5), FALL_BACK + timedelta(minutes=20)
    rows = [
        {"id": 1, "current_state": "2", "date_upd": "2024-10-27 02:10:00"},  # 00:10Z or 01:10Z: in
        {"id": 2, "current_state": "2", "date_upd": "2024-10-27 02:40:00"},  # 00:40Z or 01:40Z: out
    ]
    assert [summary.id for summary in summaries_in_window(rows, since, until, CPH)] == ["1"]


TRANSITIONS = st.sampled_from([SPRING_FORWARD, FALL_BACK, datetime(2024, 6, 1, tzinfo=UTC)])


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    TRANSITIONS,
    st.integers(min_value=-4 * 3600, max_value=4 * 3600),
    st.integers(min_value=0, max_value=3 * 3600),
    st.floats(min_value=0, max_value=1),
)
def test_every_instant_of_a_window_is_found_by_its_wall_clock_filter(
    transition: datetime, start: int, length: int, position: float
) -> None:
    """Whatever the window and DST change, an order changed inside it is selected and kept."""
    since = transition + timedelta(seconds=start)
    until = since + timedelta(seconds=length)
    changed = (since + timedelta(seconds=round(length * position))).replace(microsecond=0)
    stamp = utc_to_local(changed, CPH)
    low, high = local_window(since, until, CPH)
    assert low <= stamp <= high
    assert within_window(stamp, since, until, CPH)


def test_a_discount_over_goods_at_two_vat_rates_is_split_per_rate() -> None:
    details = [
        detail_payload(product_reference="MUG-01", unit_price_tax_excl="240.000000", unit_price_tax_incl="300.000000",
                       total_price_tax_excl="240.000000", total_price_tax_incl="300.000000", tax_rate="25.000"),
        detail_payload(product_reference="GIFTCARD", unit_price_tax_excl="400.000000", unit_price_tax_incl="400.000000",
                       total_price_tax_excl="400.000000", total_price_tax_incl="400.000000", tax_rate="0.000"),
    ]  # fmt: skip
    order = translate(order_payload(total_discounts_tax_excl="64.000000", total_discounts_tax_incl="70.000000"),
                      details=details)  # fmt: skip
    parts = lines_of(order, OrderLineKind.DISCOUNT)
    assert [(p.vat_rate, p.total_gross.amount) for p in parts] == [
        (Decimal("0"), Decimal("-40.00")), (Decimal("0.25"), Decimal("-30.00"))
    ]
