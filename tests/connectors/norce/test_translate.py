"""Norce payloads into canonical orders and hints: real shapes, hostile strings, absurd values, missing fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from shopbridge.connectors.norce.translate import (
    changed_at,
    checked_order_number,
    event_hint,
    never_updated_filter,
    odata_literal,
    order_from_norce,
    push_hint,
    quoted,
    status_path,
    summary_from_norce,
    updated_filter,
)
from shopbridge.errors import DataError
from shopbridge.model import OrderLineKind, OrderState

from .payloads import COUNTRIES, CURRENCIES, EVENT, PUSH, item, order

KEYS = {"5B1F0C2E-1111-2222-3333-444455556666": "1244"}


def read(payload: dict[str, Any], timezone: str = "Europe/Stockholm", **state_map: OrderState) -> Any:
    return order_from_norce(payload, CURRENCIES, COUNTRIES, timezone, state_map)


def test_order_reads_lines_freight_and_totals_ex_and_incl_vat() -> None:
    result = read(order())
    product, freight = result.lines
    assert (product.sku, product.quantity, product.unit_price.amount) == ("TS-BLU-M", Decimal("2.0"), Decimal("159.2"))
    assert product.vat_rate == Decimal("0.25")
    assert freight.kind is OrderLineKind.SHIPPING and freight.total_gross.amount == Decimal("49.00")
    assert result.total_net.amount == Decimal("357.60") and result.total_gross.amount == Decimal("447.00")
    assert result.currency == "SEK" and result.customer.email == "eva@example.se"


def test_order_belongs_to_its_channel_and_is_numbered_by_order_no() -> None:
    result = read(order())
    assert (result.id, result.shop, result.reference, result.status) == ("1048213", "1244", "1048213", "2")
    assert result.state is OrderState.PROCESSING


def test_times_are_in_the_channels_zone_whatever_offset_the_api_prints() -> None:
    result = read(order(Created="2024-05-02T12:15:00+02:00", Updated="2024-05-02T11:00:00"), "Europe/Copenhagen")
    assert result.created_at == datetime(2024, 5, 2, 10, 15, tzinfo=UTC)
    assert result.created_at.utcoffset() == timedelta(hours=2)
    assert result.updated_at == datetime(2024, 5, 2, 11, 0, tzinfo=UTC)  # no offset: read as UTC


def test_never_updated_order_changed_when_created() -> None:
    assert changed_at(order(Updated=None)) == datetime(2024, 5, 2, 10, 15, tzinfo=UTC)


def test_discount_becomes_its_own_line_at_the_items_vat_rate() -> None:
    result = read(order(Items=[item(DiscountAmount=Decimal("18.4"), LineAmount=Decimal("300"))]))
    discount = result.lines[1]
    assert discount.kind is OrderLineKind.DISCOUNT and discount.total_net.amount == Decimal("-18.40")
    assert discount.vat_rate == Decimal("0.25")


def test_delivery_defaults_to_the_buyer_when_the_order_has_none() -> None:
    result = read(order(DeliveryAddress1=None, DeliveryZipCode=None))
    assert result.shipping_address == result.billing_address


def test_channel_state_map_overrides_the_default() -> None:
    assert read(order(StatusId=0)).state is OrderState.PAID
    assert read(order(StatusId=0), **{"0": OrderState.PENDING_PAYMENT}).state is OrderState.PENDING_PAYMENT


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Items": None}, "Items are missing"),
        ({"Items": []}, "Items are missing"),
        ({"Buyer": None}, "Buyer is missing"),
        ({"CurrencyId": 99}, "CurrencyId 99"),
        ({"CurrencyId": True}, "CurrencyId"),
        ({"Created": "yesterday"}, "Created"),
        ({"FreightCost": Decimal("-5")}, "FreightCost is negative"),
        ({"FreightCost": "NaN"}, "FreightCost"),
        ({"Items": [item(QtyOrdered=Decimal("1e12"))]}, "out of range"),
        ({"Items": [item(QtyOrdered=0)]}, "quantity"),
        ({"Items": [item(VatRate=Decimal("250"))]}, "vat_rate"),
        ({"Items": [item(PriceSale=Decimal("1e15"))]}, "out of range"),
        ({"Items": [item(PriceSale=Decimal("-1"))]}, "PriceSale is negative"),
        ({"Items": [item(PartNo=None)]}, "no SKU"),
        ({"Items": ["not an object"]}, "Items are missing"),
        ({"Buyer": {"EmailAddress": "eva@example.se\u0000"}}, "EmailAddress contains control characters"),
        ({"Buyer": {"EmailAddress": "eva@example.se", "FirstName": "\u0007bell"}}, "control characters"),
        ({"Buyer": {"EmailAddress": "eva@example.se", "FirstName": "x" * 100_000}}, "at most 255"),
        ({"Buyer": {"EmailAddress": "eva@example.se", "CountryId": 77}}, "CountryId 77"),
        ({"StatusId": "two"}, "StatusId"),
    ],
)
def test_bad_orders_are_data_errors_naming_the_order(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(DataError) as caught:
        read(order(**changes))
    assert "order 1048213" in caught.value.message and expected in caught.value.message
    assert len(caught.value.message) <= 300


def test_hostile_text_that_is_still_text_is_kept_verbatim() -> None:
    name = "Robert'); DROP TABLE orders;-- <script>alert(1)</script> ﷽"
    result = read(order(Items=[item(ProductName=name)]))
    assert result.lines[0].name == name


def test_summary_reads_the_channel_status_and_change_time() -> None:
    summary = summary_from_norce(order())
    assert (summary.id, summary.shop, summary.status) == ("1048213", "1244", "2")
    assert summary.updated_at == datetime(2024, 5, 2, 11, 0, tzinfo=UTC)


def test_summary_without_order_no_is_a_data_error() -> None:
    with pytest.raises(DataError):
        summary_from_norce(order(OrderNo=None))


def test_status_path_fills_in_the_statuses_an_order_must_have_passed() -> None:
    assert status_path("0") == ["0"]
    assert status_path("2") == ["0", "2"]
    assert status_path("4") == ["0", "2", "4"]
    assert status_path("5") == ["0", "2", "4", "5"]
    assert status_path("6") == ["0", "6"]


def test_filters_name_every_channel_and_exact_utc_bounds() -> None:
    since = datetime(2024, 5, 1, 4, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2)))
    until = datetime(2024, 5, 1, 4, 0, tzinfo=UTC)
    changed = updated_filter([101, 102], since, until)
    channels = "(ApplicationId eq 101 or ApplicationId eq 102)"
    bounds = "Updated ge 2024-05-01T02:00:00.500000Z and Updated le 2024-05-01T04:00:00.000000Z"
    assert changed == f"{channels} and {bounds}"
    assert "Updated eq null and Created ge" in never_updated_filter([101], since, until)


def test_odata_literal_converts_offsets_to_utc_and_refuses_naive_times() -> None:
    two_hours_ahead = timezone(timedelta(hours=2))
    assert odata_literal(datetime(2024, 5, 1, 2, 0, tzinfo=two_hours_ahead)) == "2024-05-01T00:00:00.000000Z"
    with pytest.raises(ValueError):
        odata_literal(datetime(2024, 5, 1))


def test_quoted_doubles_single_quotes() -> None:
    assert quoted("a'b") == "'a''b'"


@pytest.mark.parametrize(
    "number", ["", " ", "1' or '1'='1", "1048213 or ApplicationId eq 1", "x" * 41, "ørsted", "1/2", "../Core"]
)
def test_order_numbers_that_could_change_a_query_are_refused(number: str) -> None:
    with pytest.raises(DataError):
        checked_order_number(number)


def test_push_names_the_channel_by_its_key_and_the_order_by_client_order_ref() -> None:
    hint = push_hint(PUSH, KEYS)
    assert (hint.shop, hint.order_id) == ("1244", "1048213")


def test_push_and_event_for_one_order_give_the_same_hint() -> None:
    assert push_hint(PUSH, KEYS) == event_hint(EVENT)


@pytest.mark.parametrize(
    "payload",
    [
        None, [], "order", {"ClientOrderRef": "1048213"},
        {**PUSH, "Header": {"ApplicationKey": "00000000-0000-0000-0000-000000000000"}},
        {**PUSH, "ClientOrderRef": "1048213' or 1 eq 1"}, {**PUSH, "ClientOrderRef": None},
        {**PUSH, "Header": "5b1f0c2e"},
    ],
)
def test_pushes_that_name_no_configured_order_are_data_errors(payload: object) -> None:
    with pytest.raises(DataError):
        push_hint(payload, KEYS)


def test_event_without_application_is_a_data_error() -> None:
    with pytest.raises(DataError):
        event_hint({**EVENT, "ApplicationId": None})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.decimals(-(10**6), 10**6, places=3)
    | st.sampled_from([Decimal("NaN"), Decimal("-Infinity"), Decimal("1E+30"), Decimal("-0.004")]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
FIELDS = st.sampled_from(["OrderNo", "ApplicationId", "StatusId", "CurrencyId", "Created", "Updated", "FreightCost",
                          "OrderFee", "Items", "Buyer", "DeliveryCountryId", "DeliveryAddress1"])  # fmt: skip
ITEM_FIELDS = st.sampled_from(["PartNo", "ProductName", "QtyOrdered", "PriceSale", "DiscountAmount", "VatRate"])


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(FIELDS, JSON_VALUES, max_size=3), st.dictionaries(ITEM_FIELDS, JSON_VALUES, max_size=3))
def test_any_mangled_order_reads_or_is_a_data_error(changes: dict[str, Any], item_changes: dict[str, Any]) -> None:
    payload = order(**changes)
    if isinstance(payload.get("Items"), list) and payload["Items"] and isinstance(payload["Items"][0], dict):
        payload["Items"][0].update(item_changes)
    try:
        read(payload)
    except DataError as exc:
        assert exc.message and len(exc.message) <= 300
