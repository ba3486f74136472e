"""The emulator's Query API: OData filter, order, expand, select, paging, and the application header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from shopbridge.sandbox import norce
from shopbridge.sandbox.norce.query import ODataError, parse_filter

from .support import Tenant, tenant

START = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
async def shop() -> AsyncIterator[Tenant]:
    state = norce.seeded_state(seed=1)
    moments = iter([START + timedelta(minutes=m) for m in range(100)])
    state.clock = lambda: next(moments)
    for channel in (101, 102, 101, 101, 102, 101):
        norce.place_order(state, channel)
    found = await tenant(state)
    yield found
    await found.http.aclose()


async def test_header_sets_context_but_does_not_filter(shop: Tenant) -> None:
    body = (await shop.orders(101)).json()
    assert {row["ApplicationId"] for row in body["value"]} == {101, 102}


async def test_filter_by_application_and_time_with_null_updated(shop: Tenant) -> None:
    norce.set_order_status(shop.state, "1048001", 4)  # Updated is stamped now, after the others
    odata = ("ApplicationId eq 101 and (Updated ge 2024-06-03T08:00:00Z or "
             "(Updated eq null and Created ge 2024-06-03T08:03:00Z))")  # fmt: skip
    rows = (await shop.orders(filter=odata, orderby="Id")).json()["value"]
    assert [row["OrderNo"] for row in rows] == ["1048001", "1048004", "1048006"]
    assert rows[0]["Updated"] is not None and rows[1]["Updated"] is None


async def test_top_and_next_link_page_through_everything(shop: Tenant) -> None:
    first = (await shop.orders(top="4", orderby="Id desc")).json()
    assert [row["Id"] for row in first["value"]] == [90006, 90005, 90004, 90003]
    link = first["@odata.nextLink"]
    assert "%24skip=4" in link or "$skip=4" in link
    second = (await shop.http.get(link, headers=shop.headers())).json()
    assert [row["Id"] for row in second["value"]] == [90002, 90001]
    assert "@odata.nextLink" not in second


async def test_top_above_the_cap_is_clamped_silently(shop: Tenant) -> None:
    response = await shop.orders(top="100000")
    assert response.status_code == 200 and len(response.json()["value"]) == 6


async def test_expand_and_select_shape_the_rows(shop: Tenant) -> None:
    rows = (await shop.orders(select="Id,OrderNo", expand="Items($select=PartNo,LineAmount),Buyer")).json()["value"]
    assert set(rows[0]) == {"Id", "OrderNo", "Items", "Buyer"}
    assert set(rows[0]["Items"][0]) == {"PartNo", "LineAmount"}
    assert "EmailAddress" in rows[0]["Buyer"]


@pytest.mark.parametrize(
    "params",
    [{"filter": "Nope eq 1"}, {"filter": "Id eq"}, {"filter": "Id eq 1)"}, {"filter": "substringof('a', OrderNo)"},
     {"filter": "Id ge 2024-01-01T00:00:00Z"}, {"expand": "Payments"}, {"top": "-1"}, {"skip": "ten"},
     {"orderby": "Id sideways"}],
)
async def test_bad_query_options_are_400_with_an_odata_error(shop: Tenant, params: dict[str, str]) -> None:
    response = await shop.orders(**params)
    assert response.status_code == 400 and response.json()["error"]["message"]


async def test_missing_or_unknown_application_header_is_400(shop: Tenant) -> None:
    assert (await shop.orders(None)).status_code == 400
    assert (await shop.orders(999)).status_code == 400


async def test_standalone_items_set_is_not_found(shop: Tenant) -> None:
    response = await shop.http.get("/commerce/query/2.0/Orders/OrderItems", headers=shop.headers())
    assert response.status_code == 404


async def test_without_a_valid_bearer_every_call_is_401(shop: Tenant) -> None:
    response = await shop.http.get("/commerce/query/2.0/Orders/Orders", headers={"applicationId": "101"})
    assert response.status_code == 401 and "invalid_token" in response.headers["www-authenticate"]


def test_string_literals_with_doubled_quotes_match_exactly() -> None:
    matches = parse_filter("OrderNo eq 'O''Brien' and not (StatusId eq 6)", ["OrderNo", "StatusId"])
    assert matches({"OrderNo": "O'Brien", "StatusId": 2}) and not matches({"OrderNo": "O'Brien", "StatusId": 6})


def test_null_never_orders_against_a_time() -> None:
    after = parse_filter("Updated ge 2024-01-01T00:00:00Z", ["Updated"])
    assert not after({"Updated": None})
    with pytest.raises(ODataError):
        parse_filter("Updated ge 2024-01-01T00:00:00", ["Updated"])  # a literal without offset is not a datetime


async def test_order_arriving_late_is_in_no_answer_until_it_arrives(shop: Tenant) -> None:
    norce.arrive_late(shop.state, "1048002", timedelta(minutes=30))
    listed = [row["OrderNo"] for row in (await shop.orders()).json()["value"]]
    assert "1048002" not in listed and len(listed) == 5
    norce.arrive_late(shop.state, "1048002", timedelta(0))
    assert len((await shop.orders()).json()["value"]) == 6
