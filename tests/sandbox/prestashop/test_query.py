"""The PrestaShop emulator's list parameters as pure functions: filter grammar, display, sort, limit, language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, strategies as st

from shopbridge.sandbox.prestashop.query import (
    WebserviceError,
    apply_limit,
    matches_expression,
    parse_display,
    parse_filters,
    parse_languages,
    parse_limit,
    parse_sort,
    php_intval,
    read_filters,
    row_matches,
    sort_rows,
)
from shopbridge.sandbox.prestashop.schema import RESOURCES, parse_fields

ORDERS = RESOURCES["orders"]
PRODUCTS = RESOURCES["products"]


def error_code(call: Callable[..., object], *args: object) -> int:
    with pytest.raises(WebserviceError) as caught:
        call(*args)
    return caught.value.code


@pytest.mark.parametrize(("value", "expression", "expected"), [
    ("John", "[John]", True),
    ("john", "[JOHN]", True),
    ("Johnny", "[John]", False),
    ("Johnny", "[Jo]%", True),
    ("Johnny", "%[ny]", True),
    ("Johnny", "%[hn]%", True),
    ("Johnny", "[hn]%", False),
    ("Jxhnny", "[J_hnny]%", True),
    ("Jxxhnny", "[J_hnny]%", False),
    ("5", "[1|5|9]", True),
    ("4", "[1|5|9]", False),
    ("5", "![1|5]", False),
    ("6", "![1|5]", True),
    ("10", ">[9]", True),
    ("9", ">[9]", False),
    ("9", "<[10]", True),
    ("7", "7", True),
    ("7.000000", "[7]", True),
    ("0", "[0]", True),
    ("anything", "?[x]", True),
])
def test_filter_value_follows_the_sql_retrieve_filter_grammar(value: str, expression: str, expected: bool) -> None:
    assert matches_expression(value, expression, numeric=value[0].isdigit()) is expected


def test_numeric_columns_compare_as_numbers_and_text_columns_as_text() -> None:
    assert matches_expression("10", ">[9]", numeric=True)
    assert not matches_expression("10", ">[9]", numeric=False)
    assert not matches_expression("0154", "[154]", numeric=False)


def test_null_never_matches_a_filter() -> None:
    assert not matches_expression(None, "![1]", numeric=True)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_a_range_is_inclusive_whatever_order_its_ends_come_in(low: int, high: int, value: int) -> None:
    inside = min(low, high) <= value <= max(low, high)
    assert matches_expression(str(value), f"[{low},{high}]", numeric=True) is inside
    assert matches_expression(str(value), f"[{high},{low}]", numeric=True) is inside


def test_a_datetime_range_includes_both_ends() -> None:
    expression = "[2024-03-31 00:00:00,2024-03-31 23:59:59]"
    assert matches_expression("2024-03-31 00:00:00", expression, numeric=False)
    assert matches_expression("2024-03-31 23:59:59", expression, numeric=False)
    assert not matches_expression("2024-04-01 00:00:00", expression, numeric=False)


def test_filters_are_read_from_the_query_and_a_repeated_one_keeps_the_last_value() -> None:
    pairs = [("filter[id]", "[1]"), ("display", "full"), ("filter[id]", "[2]"), ("filter[reference]", "[X]")]
    assert read_filters(pairs) == {"id": "[2]", "reference": "[X]"}


def test_unknown_filter_field_is_code_32_with_a_hint() -> None:
    with pytest.raises(WebserviceError) as caught:
        parse_filters({"refrence": "[X]"}, ORDERS, date_enabled=False)
    assert caught.value.code == 32 and '"reference"' in caught.value.message


def test_date_fields_filter_only_with_date_1() -> None:
    assert error_code(parse_filters, {"date_upd": ">[2024-01-01]"}, ORDERS, False) == 32
    assert parse_filters({"date_upd": ">[2024-01-01]"}, ORDERS, True)[0].field == ORDERS.field("date_upd")


def test_empty_filter_is_code_33_and_computed_field_is_code_34() -> None:
    assert error_code(parse_filters, {"id": ""}, ORDERS, False) == 33
    assert error_code(parse_filters, {"shipping_number": "[X]"}, ORDERS, False) == 34


def test_filters_on_i18n_fields_match_any_language() -> None:
    row = {"id": 1, "name": {1: "Mug", 2: "Krus"}}
    filters = parse_filters({"name": "[krus]"}, PRODUCTS, False)
    assert row_matches(row, filters, [1, 2])
    assert not row_matches(row, filters, [1])


def test_display_full_fields_and_association_sub_fields() -> None:
    assert parse_display(None, ORDERS) is None
    assert parse_display("full", ORDERS).full  # type: ignore[union-attr]
    display = parse_display("[id,reference,order_rows[product_id,product_quantity]]", ORDERS)
    assert display is not None
    assert display.fields == {"id": None, "reference": None, "order_rows": ["product_id", "product_quantity"]}


def test_display_errors_are_35_for_unknown_fields_and_36_for_bad_syntax() -> None:
    assert error_code(parse_display, "[id,nope]", ORDERS) == 35
    assert error_code(parse_display, "[order_rows[nope]]", ORDERS) == 35
    assert error_code(parse_display, "id,reference", ORDERS) == 36


def test_sort_splits_on_the_last_underscore() -> None:
    assert parse_sort("[date_upd_ASC,id_desc]", ORDERS, True) == [("date_upd", False), ("id", True)]
    assert parse_sort("total_paid_DESC", ORDERS, False) == [("total_paid", True)]


def test_sort_errors_are_37_for_direction_and_38_for_field() -> None:
    assert error_code(parse_sort, "[id_UP]", ORDERS, False) == 37
    assert error_code(parse_sort, "id", ORDERS, False) == 37
    assert error_code(parse_sort, "[nope_ASC]", ORDERS, False) == 38
    assert error_code(parse_sort, "[date_add_ASC]", ORDERS, False) == 38


def test_sort_orders_numbers_numerically_then_by_id() -> None:
    rows = [{"id": 1, "total_paid": "9.000000"}, {"id": 2, "total_paid": "10.000000"}, {"id": 3, "total_paid": "9.0"}]
    ordered = sort_rows(rows, parse_sort("[total_paid_DESC]", ORDERS, False), ORDERS, [1])
    assert [row["id"] for row in ordered] == [2, 1, 3]


def test_limit_takes_a_count_or_an_offset_and_count() -> None:
    rows = [{"id": number} for number in range(1, 11)]
    assert [row["id"] for row in apply_limit(rows, parse_limit("3"))] == [1, 2, 3]
    assert [row["id"] for row in apply_limit(rows, parse_limit("8,5"))] == [9, 10]
    assert apply_limit(rows, parse_limit("0")) == []
    assert error_code(parse_limit, "1,2,3") == 39


def test_language_accepts_one_a_list_or_a_range_and_drops_unknown_ids() -> None:
    assert parse_languages(None, [1, 2]) == [1, 2]
    assert parse_languages("2", [1, 2]) == [2]
    assert parse_languages("[1|3]", [1, 2, 3]) == [1, 3]
    assert parse_languages("[2,9]", [1, 2, 3]) == [2, 3]
    assert error_code(parse_languages, "en", [1]) == 79
    assert error_code(parse_languages, "[a|b]", [1]) == 80


def test_php_intval_reads_leading_digits() -> None:
    assert (php_intval("42abc"), php_intval("abc"), php_intval(" 7")) == (42, 0, 7)


def test_field_notation_reads_links_kinds_and_flags() -> None:
    (item,) = parse_fields("id_customer>customers*")
    assert (item.link, item.kind, item.required, item.writable) == ("customers", "int", True, True)
    (computed,) = parse_fields("quantity:int^!#")
    assert computed.getter and not computed.writable and computed.json_int
