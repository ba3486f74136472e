"""Starweb emulator behaviour: seeding, paging envelope, order filters and sorting, writes that move modifiedAt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shopbridge.sandbox import catalog, starweb

from .support import signed_in

MORNING = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = MORNING

    def __call__(self) -> datetime:
        return self.now


def test_seed_sells_every_catalogue_sku_at_its_net_price() -> None:
    state = starweb.seeded_state(seed=1)
    for product in catalog.DEMO_PRODUCTS:
        for sku in product.skus:
            found = state.sku_variant(sku)
            assert found is not None
            price = found[1]["prices"][1]["priceExVat"]
            assert price >= product.price
    assert len(state.customers) == len(catalog.DEMO_CUSTOMERS)


def test_same_seed_same_orders() -> None:
    first, second = starweb.seeded_state(seed=4, orders=5), starweb.seeded_state(seed=4, orders=5)
    assert [[item["sku"] for item in order["items"]] for order in first.orders.values()] == [
        [item["sku"] for item in order["items"]] for order in second.orders.values()]


async def test_paging_envelope_counts_and_pages() -> None:
    state = starweb.seeded_state(seed=1, orders=5)
    state.page_size = 2
    async with signed_in(state) as http:
        pages = [(await http.get("orders", params={"page": str(page)})).json() for page in (1, 3, 4)]
    assert [len(page["data"]) for page in pages] == [2, 1, 0]
    first = pages[0]["meta"]["pagination"]
    assert {key: first[key] for key in ("current_page", "per_page", "total", "count", "total_pages")} == {
        "current_page": 1, "per_page": 2, "total": 5, "count": 2, "total_pages": 3}
    assert first["links"] == {"next": "http://shop.test/api/v2/orders?page=2"}
    assert pages[1]["meta"]["pagination"]["links"] == {"previous": "http://shop.test/api/v2/orders?page=2"}


async def test_paging_links_keep_the_query_and_a_single_page_has_none() -> None:
    state = starweb.seeded_state(seed=1, orders=3)
    state.page_size = 2
    async with signed_in(state) as http:
        many = (await http.get("orders", params={"page": "2", "sortBy": "createdAt"})).json()
        one = (await http.get("customers", params={"include": "addresses"})).json()
    assert many["meta"]["pagination"]["links"] == {"previous": "http://shop.test/api/v2/orders?sortBy=createdAt&page=1"}
    state.page_size = 100
    async with signed_in(state) as http:
        one = (await http.get("customers")).json()
    assert one["meta"]["pagination"]["links"] == []


async def test_orders_sort_by_modification_and_filter_by_creation() -> None:
    clock = Clock()
    state = starweb.seeded_state(seed=1, clock=clock)
    ids = []
    for step in range(3):
        clock.now = MORNING + timedelta(minutes=step)
        ids.append(starweb.place_order(state))
    clock.now = MORNING + timedelta(hours=1)
    starweb.set_order_status(state, ids[0], starweb.STATUS_PICKING)
    async with signed_in(state) as http:
        newest = (await http.get("orders", params={"sortBy": "modifiedAt", "sortOrder": "DESC"})).json()["data"]
        after = (await http.get("orders", params={"ordersCreatedAfter": "2024-06-03T10:00:30+02:00"})).json()["data"]
        naive = (await http.get("orders", params={"ordersCreatedAfter": "2024-06-03T10:00:30"})).json()["data"]
        status = (await http.get("orders", params={"statusFilter": "2"})).json()["data"]
    assert [order["orderId"] for order in newest] == [ids[0], ids[2], ids[1]]
    assert newest[0]["modifiedAt"] == "2024-06-03T11:00:00+02:00"
    assert [order["orderId"] for order in after] == [ids[2], ids[1]] == [order["orderId"] for order in naive]
    assert [order["orderId"] for order in status] == [ids[0]]


async def test_totals_are_net_vat_and_gross_to_pay() -> None:
    state = starweb.seeded_state(seed=1)
    order_id = starweb.place_order(state, lines=[("MUG-01", 2)])
    async with signed_in(state) as http:
        order = (await http.get(f"orders/{order_id}")).json()["data"]
    assert (order["totalAmount"], order["totalVat"], order["amountToPay"]) == (197.6, 49.4, 247.0)


async def test_comments_and_external_services_move_modified_at() -> None:
    clock = Clock()
    state = starweb.seeded_state(seed=1, clock=clock)
    order_id = starweb.place_order(state)
    clock.now = MORNING + timedelta(minutes=7)
    async with signed_in(state) as http:
        await http.post(f"orders/{order_id}/comments", json={"text": "hej"})
        assert state.orders[order_id]["modifiedAt"] == clock.now
        clock.now += timedelta(minutes=1)
        await http.post(f"orders/{order_id}/external-services", json={"serviceName": "erp", "externalIdValue": "1"})
        assert state.orders[order_id]["modifiedAt"] == clock.now
        order = (await http.get(f"orders/{order_id}", params={"include": "externalServices"})).json()["data"]
    assert order["hasComments"] is True
    assert order["externalServices"]["data"][0]["externalIdValue"] == "1"


async def test_stock_put_creates_the_row_for_a_location() -> None:
    state = starweb.seeded_state(seed=1)
    async with signed_in(state) as http:
        answer = await http.put("products/1/variants/1/stocks/1", json={"stockStatusId": 1, "stockQuantity": 3})
        listed = (await http.get("products/1/variants/1/stocks")).json()["data"]
    assert answer.status_code == 200 and listed == [{"stockLocationId": 1, "stockStatusId": 1, "stockQuantity": 3}]


async def test_products_filter_by_sku_and_change_time() -> None:
    clock = Clock()
    state = starweb.seeded_state(seed=1, clock=clock)
    clock.now = MORNING + timedelta(days=1)
    new_id = starweb.add_product(state, "NEW-1", "New", Decimal("10"))
    async with signed_in(state) as http:
        by_sku = (await http.get("products", params={"filterSku": "TEE-M-WHI", "include": "variants"})).json()
        since = (await http.get("products", params={"updatedSince": "2024-06-04T00:00:00+00:00"})).json()
    assert [variant["sku"] for variant in by_sku["data"][0]["variants"]["data"]][:2] == ["TEE-S-BLA", "TEE-S-WHI"]
    assert [product["productId"] for product in since["data"]] == [new_id]
