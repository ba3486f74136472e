"""The e-conomic query language, paging envelope and id encoding, as pure functions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, strategies as st

from shopbridge.sandbox.economic.query import (
    MAX_IN_VALUES,
    PageRequest,
    QueryError,
    check_filterable,
    decode_id,
    encode_id,
    matches,
    page_envelope,
    parse_filter,
    parse_paging,
    parse_sort,
    sort_resources,
    to_wire,
    with_links,
)

PEOPLE: list[dict[str, Any]] = [
    {"number": 1, "name": "Joe", "city": "Newport", "age": 35, "barred": True, "references": {"other": "WEB-1"}},
    {"number": 2, "name": "joe", "city": "Aarhus", "age": 52, "references": {"other": "WEB-2"}},
    {"number": 3, "name": "Ann", "city": "Portsmouth", "age": 28},
    {"number": 4, "name": "Bo (jr.)", "city": "Odense", "age": 41, "price": Decimal("10.50")},
    {"number": 5, "name": "Star*Shop $ale", "city": "Vejle", "age": 41, "price": Decimal("7")},
]


def numbers(filter_text: str) -> list[int]:
    node = parse_filter(filter_text)
    return [person["number"] for person in PEOPLE if matches(node, person)]


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("age$eq:41", [4, 5]),
        ("age$ne:41", [1, 2, 3]),
        ("age$gt:41", [2]),
        ("age$gte:41", [2, 4, 5]),
        ("age$lt:35", [3]),
        ("age$lte:35", [1, 3]),
        ("price$gt:7.5", [4]),
        ("barred$eq:true", [1]),
    ],
)
def test_comparison_operators_compare_numbers_and_booleans_by_value(filter_text: str, expected: list[int]) -> None:
    assert numbers(filter_text) == expected


def test_string_equality_ignores_case() -> None:
    assert numbers("name$eq:JOE") == [1, 2]


def test_string_ordering_ignores_case() -> None:
    assert numbers("name$lt:b") == [3]


def test_like_without_wildcard_means_contains() -> None:
    assert numbers("city$like:PORT") == [1, 3]


def test_like_with_wildcards_matches_the_whole_value() -> None:
    assert numbers("city$like:*port") == [1]
    assert numbers("city$like:port*") == [3]
    assert numbers("city$like:o*e") == [4]


def test_in_and_nin_take_numeric_lists() -> None:
    assert numbers("age$in:[28,52]") == [2, 3]
    assert numbers("age$nin:[28,52]") == [1, 4, 5]


def test_in_refuses_more_than_the_maximum_number_of_values() -> None:
    values = ",".join(str(n) for n in range(MAX_IN_VALUES + 1))
    with pytest.raises(QueryError):
        numbers(f"age$in:[{values}]")


def test_in_refuses_text_properties() -> None:
    with pytest.raises(QueryError):
        numbers("name$in:[1,2]")


def test_null_matches_absent_values_and_false_asks_for_present_ones() -> None:
    assert numbers("price$null:") == [1, 2, 3]
    assert numbers("price$null:false") == [4, 5]


def test_absent_values_satisfy_only_not_equal() -> None:
    assert numbers("price$eq:7") == [5]
    assert numbers("price$ne:7") == [1, 2, 3, 4]


def test_nested_paths_reach_into_objects() -> None:
    assert numbers("references.other$eq:web-2") == [2]


def test_and_binds_tighter_than_or() -> None:
    assert numbers("name$eq:Ann$or:name$eq:joe$and:age$gt:40") == [2, 3]


def test_parentheses_group_a_disjunction() -> None:
    assert numbers("name$eq:Joe$and:(city$like:*port$or:age$lt:40)") == [1]
    assert numbers("(name$eq:Ann$or:name$eq:joe)$and:age$gt:40") == [2]


def test_escaped_characters_are_taken_literally() -> None:
    assert numbers("name$eq:Bo $(jr.$)") == [4]
    assert numbers("name$eq:Star$*Shop $$ale") == [5]
    assert numbers("name$like:r$*s") == [5]


def test_an_escaped_star_is_no_wildcard() -> None:
    assert numbers("name$like:Star$*") == [5]
    assert numbers("city$like:$*port") == []


def test_escaped_list_characters_are_part_of_a_value() -> None:
    node = parse_filter("code$eq:$[a$,b$]")
    assert matches(node, {"code": "[a,b]"})


@pytest.mark.parametrize(
    "bad",
    ["name", "name$eq", "name$foo:x", "name$eq:a$b", "name$eq:a(b", "(name$eq:a", "name$eq:a)", "age$gt:old"],
)
def test_malformed_filters_are_refused(bad: str) -> None:
    with pytest.raises(QueryError):
        numbers(bad)


def test_only_filterable_properties_may_be_used() -> None:
    node = parse_filter("name$eq:a$and:(inventory.available$gt:1$or:secret$eq:x)")
    with pytest.raises(QueryError, match="secret"):
        check_filterable(node, {"name", "inventory.*"})
    check_filterable(node, {"name", "inventory.*", "secret"})


def test_sort_orders_by_several_keys_in_both_directions() -> None:
    ordered = sort_resources(PEOPLE, parse_sort("-age,name", {"age", "name"}))
    assert [person["number"] for person in ordered] == [2, 4, 5, 1, 3]


def test_sort_puts_absent_values_first_when_ascending() -> None:
    ordered = sort_resources(PEOPLE, parse_sort("price", {"price"}))
    assert [person["number"] for person in ordered] == [1, 2, 3, 5, 4]


def test_alphabetic_sort_compares_numbers_as_text() -> None:
    rows = [{"n": 9}, {"n": 10}, {"n": 100}]
    assert [row["n"] for row in sort_resources(rows, parse_sort("~n", {"n"}))] == [10, 100, 9]
    assert [row["n"] for row in sort_resources(rows, parse_sort("n", {"n"}))] == [9, 10, 100]


def test_sort_refuses_unsortable_properties() -> None:
    with pytest.raises(QueryError):
        parse_sort("secret", {"name"})


def test_paging_defaults_and_accepts_mixed_case_names() -> None:
    assert parse_paging({}) == PageRequest(0, 20)
    assert parse_paging({"skipPages": "2", "pageSize": "7"}) == PageRequest(2, 7)


@pytest.mark.parametrize("params", [{"pagesize": "1001"}, {"pagesize": "0"}, {"skippages": "-1"}, {"pagesize": "x"}])
def test_paging_refuses_out_of_range_values(params: dict[str, str]) -> None:
    with pytest.raises(QueryError):
        parse_paging(params)


def envelope(count: int, skip: int, size: int, carried: dict[str, str] | None = None) -> dict[str, Any]:
    rows = [{"n": n} for n in range(count)]
    return page_envelope(rows, page=PageRequest(skip, size), results_without_filter=count + 3,
                         collection_url="https://api.test/customers", carried=carried or {})  # fmt: skip


def query_of(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


def test_envelope_links_first_next_and_last_pages() -> None:
    body = envelope(45, 1, 20)
    pagination = body["pagination"]
    assert [row["n"] for row in body["collection"]] == list(range(20, 40))
    assert (pagination["results"], pagination["resultsWithoutFilter"]) == (45, 48)
    assert (pagination["skipPages"], pagination["pageSize"], pagination["maxPageSizeAllowed"]) == (1, 20, 1000)
    assert query_of(pagination["firstPage"]) == {"skippages": ["0"], "pagesize": ["20"]}
    assert query_of(pagination["nextPage"])["skippages"] == ["2"]
    assert query_of(pagination["lastPage"])["skippages"] == ["2"]
    assert query_of(body["self"])["skippages"] == ["1"]


def test_envelope_omits_next_page_on_the_last_page() -> None:
    assert "nextPage" not in envelope(45, 2, 20)["pagination"]
    assert "nextPage" not in envelope(0, 0, 20)["pagination"]
    assert envelope(40, 1, 20)["collection"][-1] == {"n": 39}
    assert "nextPage" not in envelope(40, 1, 20)["pagination"]


def test_envelope_carries_filter_and_sort_into_every_link() -> None:
    carried = {"filter": "references.other$eq:shop/1 & co$(x$)", "sort": "-date"}
    pagination = envelope(30, 0, 10, carried)["pagination"]
    for name in ("firstPage", "nextPage", "lastPage"):
        query = query_of(pagination[name])
        assert (query["filter"], query["sort"]) == ([carried["filter"]], [carried["sort"]])


def test_product_number_encoding_follows_the_id_table() -> None:
    assert encode_id("A_B/C.1 x") == "A_8_B_6_C_11_1_9_x"
    assert encode_id("<>*%:&\\?#+") == "_0__1__2__3__4__5__7__10__12__13_"
    assert encode_id("Æble") == "%C3%86ble"


@given(st.text(min_size=1, max_size=25))
def test_product_number_encoding_round_trips(number: str) -> None:
    assert decode_id(unquote(encode_id(number))) == number


def test_wire_form_drops_false_and_absent_values_and_writes_decimals_as_numbers() -> None:
    wired = to_wire({"barred": False, "vip": True, "note": None, "amount": Decimal("12.30"), "lines": [{"x": False}]})
    assert wired == {"vip": True, "amount": 12.3, "lines": [{}]}


def test_reference_objects_get_self_links() -> None:
    document = {"customer": {"customerNumber": 7}, "lines": [{"product": {"productNumber": "A/B"}}]}
    linked = with_links(document, "https://x")
    assert linked["customer"]["self"] == "https://x/customers/7"
    assert linked["lines"][0]["product"]["self"] == "https://x/products/A_6_B"


def test_omitted_booleans_compare_as_false() -> None:
    assert numbers("barred$eq:false") == [2, 3, 4, 5]
    assert numbers("barred$ne:false") == [1]
