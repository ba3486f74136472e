"""Tests of the PrestaShop connector: settings, guards, and the orders it reads from the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from shopbridge.connectors.calls import LocalRateBudget, RateWindow
from shopbridge.connectors.prestashop import PrestaShopConnector, PrestaShopSettings
from shopbridge.errors import ConfigError, DataError, TransientError
from shopbridge.model import OrderLineKind, OrderState, round_cents
from shopbridge.sandbox import catalog, prestashop
from shopbridge.sandbox.limits import TokenBucket

from .emulated import EmulatedShop

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
Handler = Callable[[httpx.Request], httpx.Response]


def mocked(handler: Handler, seen: list[httpx.Request] | None = None) -> PrestaShopConnector:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return PrestaShopConnector(PrestaShopSettings(url="http://shop.test", key=KEY), http)


# --- settings ---


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("https://shop.example", "https://shop.example/api/"),
        ("https://shop.example/", "https://shop.example/api/"),
        ("https://shop.example/api", "https://shop.example/api/"),
        ("https://shop.example/api/", "https://shop.example/api/"),
        (" http://host:8080/prestashop ", "http://host:8080/prestashop/api/"),
    ],
)
def test_url_is_normalised_to_the_api_root(given: str, normalised: str) -> None:
    assert PrestaShopSettings(url=given, key=KEY).url == normalised


@pytest.mark.parametrize(
    "url", ["shop.example", "ftp://shop.example", "https://shop.example/api/?ws_key=abc", f"https://{KEY}@shop.example"]
)
def test_url_that_is_not_a_plain_http_address_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PrestaShopSettings(url=url, key=KEY)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize("key", ["", "has:colon", " padded "])
def test_key_that_cannot_be_a_basic_auth_user_is_refused(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PrestaShopSettings(url="https://shop.example", key=key)
    assert not key.strip() or key.strip() not in str(caught.value)


def test_key_is_secret_in_every_printed_form() -> None:
    settings = PrestaShopSettings(url="https://shop.example", key=KEY)
    assert KEY not in repr(settings) and KEY not in str(settings)
    assert KEY not in settings.model_dump_json()
    assert PrestaShopSettings.secret_fields == ("key",)


def test_unknown_time_zone_and_tiny_pages_are_refused() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        PrestaShopSettings(url="https://shop.example", key=KEY, timezone="Europe/Atlantis")
    with pytest.raises(ValidationError):
        PrestaShopSettings(url="https://shop.example", key=KEY, page_size=1)


async def test_the_shops_rate_limit_is_ten_a_second_unless_the_connection_says_what_its_server_takes() -> None:
    http = httpx.AsyncClient()
    default = PrestaShopSettings(url="http://shop.test", key=KEY)
    assert PrestaShopConnector(default, http).client.gate.windows == (RateWindow(requests=10, seconds=1),)
    lowered = PrestaShopSettings(url="http://shop.test", key=KEY, rate_limit={"requests": 2, "seconds": 1})
    assert PrestaShopConnector(lowered, http).client.gate.windows == (RateWindow(requests=2, seconds=1),)
    # PrestaShop publishes no limit: a merchant whose own server takes more may raise it.
    raised = PrestaShopSettings(url="http://shop.test", key=KEY, rate_limit={"requests": 50, "seconds": 1})
    assert PrestaShopConnector(raised, http).client.gate.windows == (RateWindow(requests=50, seconds=1),)
    await http.aclose()


def test_state_map_values_are_canonical_states() -> None:
    settings = PrestaShopSettings.model_validate(
        {"system": "prestashop", "url": "https://shop.example", "key": KEY, "state_map": {"15": "paid"}}
    )
    assert settings.state_map["15"].value == "paid"
    with pytest.raises(ValidationError):
        PrestaShopSettings.model_validate({"url": "https://x.example", "key": KEY, "state_map": {"15": "lost"}})


# --- guards (single-function tests over a mock transport) ---


@pytest.mark.parametrize("order_id", ["abc", "0", "", "../customers/1", "٣", "-4", "7.0"])
async def test_order_id_that_is_not_a_positive_integer_is_refused_before_any_request(order_id: str) -> None:
    seen: list[httpx.Request] = []
    connector = mocked(lambda request: httpx.Response(200, json={}), seen)
    with pytest.raises(DataError, match="not a PrestaShop order id"):
        await connector.get_order(order_id)
    assert seen == []


@pytest.mark.parametrize(
    "response",
    [httpx.Response(404, text=""), httpx.Response(200, text="<html>Welcome to our shop</html>")],
)
async def test_check_reports_a_wrong_url_as_a_config_error(response: httpx.Response) -> None:
    with pytest.raises(ConfigError, match="does not answer as a PrestaShop webservice"):
        await mocked(lambda request: response).check()


async def test_check_leaves_a_busy_shop_transient() -> None:
    with pytest.raises(TransientError):
        await mocked(lambda request: httpx.Response(503, text="")).check()


async def test_order_changes_refuses_naive_or_reversed_windows() -> None:
    connector = mocked(lambda request: httpx.Response(200, json=[]))
    later, earlier = datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        [page async for page in connector.order_changes(earlier.replace(tzinfo=None), later.replace(tzinfo=None))]
    with pytest.raises(ValueError):
        [page async for page in connector.order_changes(later, earlier)]


async def test_aclose_closes_only_a_client_the_connector_made() -> None:
    injected = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    await PrestaShopConnector(PrestaShopSettings(url="http://shop.test", key=KEY), injected).aclose()
    assert not injected.is_closed
    await injected.aclose()
    own = PrestaShopConnector(PrestaShopSettings(url="http://shop.test", key=KEY))
    await own.aclose()
    assert own.client is not None and own._http.is_closed


# --- against the emulator, in-process ---

MORNING = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def shop() -> EmulatedShop:
    return EmulatedShop.seeded()


def catalog_price(sku: str) -> Decimal:
    for product in catalog.DEMO_PRODUCTS:
        if product.sku == sku:
            return product.price
        for variant in product.variants:
            if variant.sku == sku:
                return product.price + variant.price_impact
    raise KeyError(sku)


async def test_emulated_order_reads_with_combination_shipping_and_discount_lines(shop: EmulatedShop) -> None:
    bought = [("MUG-01", 2), ("TEE-L-BLA", 1), ("GIFTCARD", 1)]
    order_id = shop.place(MORNING, lines=bought, discount="10", customer_email="erik.svensson@example.se")
    order = await shop.in_process().get_order(order_id)
    products = [line for line in order.lines if line.kind is OrderLineKind.PRODUCT]
    assert [(line.sku, line.quantity, line.unit_price.amount) for line in products] == [
        (sku, quantity, catalog_price(sku)) for sku, quantity in bought
    ]
    assert [line.vat_rate for line in products] == [Decimal("0.25"), Decimal("0.25"), Decimal("0")]
    (shipping,) = [line for line in order.lines if line.kind is OrderLineKind.SHIPPING]
    assert (shipping.name, shipping.total_net.amount) == ("PostNord", catalog.SHIPPING_NET)
    # One discount line per VAT rate of the goods (25 % and the 0 % gift card).
    discounts = [line for line in order.lines if line.kind is OrderLineKind.DISCOUNT]
    assert sorted(line.vat_rate for line in discounts) == [Decimal("0"), Decimal("0.25")]
    products_net = sum(line.total_net.amount for line in products)
    assert sum(line.total_net.amount for line in discounts) == -round_cents(products_net / 10)
    assert sum(line.total_net.amount for line in order.lines) == order.total_net.amount
    assert sum(line.total_gross.amount for line in order.lines) == order.total_gross.amount
    assert (order.customer.email, order.billing_address.country) == ("erik.svensson@example.se", "SE")
    assert order.created_at == MORNING


async def test_countries_currency_and_carrier_are_fetched_once_per_connector(shop: EmulatedShop) -> None:
    first, second = shop.place(MORNING), shop.place(MORNING)
    seen: list[httpx.Request] = []
    connector = shop.in_process(seen=seen)
    await connector.get_order(first)
    await connector.get_order(second)
    for resource in ("countries", "currencies", "carriers"):
        assert sum(request.url.path.startswith(f"/api/{resource}/") for request in seen) == 1
    assert sum(request.url.path.startswith("/api/customers/") for request in seen) == 2


async def test_reference_data_is_read_again_once_its_time_is_up(shop: EmulatedShop) -> None:
    first, second = shop.place(MORNING), shop.place(MORNING)
    seen: list[httpx.Request] = []
    connector = shop.in_process(seen=seen, reference_ttl_seconds=0)
    await connector.get_order(first)
    await connector.get_order(second)
    assert sum(request.url.path.startswith("/api/currencies/") for request in seen) == 2


async def test_an_order_shipped_and_billed_to_one_address_reads_it_once(shop: EmulatedShop) -> None:
    seen: list[httpx.Request] = []
    order = await shop.in_process(seen=seen).get_order(shop.place(MORNING))
    assert order.billing_address == order.shipping_address
    assert sum(request.url.path.startswith("/api/addresses/") for request in seen) == 1


async def test_a_429_holds_the_account_back_and_the_read_is_sent_again_after_its_retry_after(
    shop: EmulatedShop,
) -> None:
    shop.state.rate_limit = TokenBucket(capacity=1, refill_per_second=0.5)
    budget = LocalRateBudget()
    connector = shop.in_process(rate_limit={"requests": 100, "seconds": 1})
    connector.client.gate.budget = budget
    await connector.check()
    started = time.monotonic()
    repeated = asyncio.create_task(connector.check())
    await asyncio.sleep(0.3)  # the read has its 429 (Retry-After 2) by now
    await budget.acquire(connector.client.gate.account, connector.client.gate.windows)
    assert time.monotonic() - started >= 1.5  # every other caller of the account waited too
    await repeated
    assert connector.client.gate.calls["list_order_ids"] == 3


async def test_state_map_of_the_connection_decides_the_canonical_state(shop: EmulatedShop) -> None:
    order_id = shop.place(MORNING, status=3)
    connector = shop.in_process(state_map={"3": OrderState.PAID})
    assert (await connector.get_order(order_id)).state is OrderState.PAID


async def test_order_changed_while_paging_stops_the_pass_as_transient(shop: EmulatedShop) -> None:
    for step in range(6):
        shop.place(MORNING + timedelta(minutes=step))
    changes = shop.in_process(page_size=3).order_changes(MORNING, MORNING + timedelta(hours=1))
    first = await anext(changes)
    shop.set_status(first[0].id, 4, MORNING + timedelta(hours=2))  # leaves the window
    with pytest.raises(TransientError, match="shifted"):
        await anext(changes)


async def test_order_whose_customer_is_gone_is_a_data_error_for_that_order_only(shop: EmulatedShop) -> None:
    broken = shop.place(MORNING, customer_email="anna.jensen@example.dk")
    sound = shop.place(MORNING, customer_email="lars.nielsen@example.dk")
    customer_id = int(shop.state.table("orders")[int(broken)]["id_customer"])
    del shop.state.table("customers")[customer_id]
    connector = shop.in_process()
    with pytest.raises(DataError, match=rf"order {broken}: GET customers/{customer_id} answered 404"):
        await connector.get_order(broken)
    assert (await connector.get_order(sound)).id == sound


async def test_hostile_line_name_in_the_shop_is_one_clear_data_error(shop: EmulatedShop) -> None:
    order_id = shop.place(MORNING, lines=[("MUG-01", 1)])
    (detail,) = shop.state.find("order_details", id_order=order_id)
    detail["product_name"] = "Mug " + "\x07" * 10_000
    with pytest.raises(DataError, match=rf"order {order_id}: line 1: name") as caught:
        await shop.in_process().get_order(order_id)
    assert len(str(caught.value)) < 400


async def test_shop_id_scopes_requests_and_an_unknown_shop_fails_the_check(shop: EmulatedShop) -> None:
    seen: list[httpx.Request] = []
    await shop.in_process(seen=seen, shop_id=1).check()
    assert seen[0].url.params["id_shop"] == "1"
    with pytest.raises(ConfigError, match="does not answer as a PrestaShop webservice"):
        await shop.in_process(shop_id=2).check()


async def test_orders_of_another_shop_are_not_listed_in_a_shop_context(shop: EmulatedShop) -> None:
    kept, moved = shop.place(MORNING), shop.place(MORNING)
    shop.state.table("orders")[int(moved)]["id_shop"] = "2"
    pages = [page async for page in shop.in_process(shop_id=1).order_changes(MORNING, MORNING)]
    assert [summary.id for page in pages for summary in page] == [kept]


async def test_status_history_lists_every_state_the_order_had_oldest_first(shop: EmulatedShop) -> None:
    order_id = shop.place(MORNING, status=10)
    prestashop.set_order_state(shop.state, int(order_id), 2)
    prestashop.set_order_state(shop.state, int(order_id), 4)
    assert await shop.in_process().status_history(order_id) == ["10", "2", "4"]


async def test_status_histories_of_many_orders_come_in_one_call(shop: EmulatedShop) -> None:
    paid_then_shipped, unpaid = shop.place(MORNING, status=10), shop.place(MORNING, status=10)
    other = shop.place(MORNING)
    shop.set_status(paid_then_shipped, 2, MORNING)
    shop.set_status(paid_then_shipped, 4, MORNING)
    seen: list[httpx.Request] = []
    histories = await shop.in_process(seen=seen).status_histories([paid_then_shipped, unpaid])
    assert histories == {paid_then_shipped: ["10", "2", "4"], unpaid: ["10"]}
    assert other not in histories
    assert len(seen) == 1 and seen[0].url.params["filter[id_order]"] == f"[{paid_then_shipped}|{unpaid}]"


# --- reads joined while the budget is busy ---


REFERENCE_PATHS = ("/api/countries/", "/api/currencies/", "/api/carriers/")


def budgeted(shop: EmulatedShop, seen: list[httpx.Request]) -> PrestaShopConnector:
    """A connector whose budget lets one call through every 0.1 s: the calls behind it wait."""
    connector = shop.in_process(seen=seen, rate_limit={"requests": 1, "seconds": 0.1})
    connector.client.gate.budget = LocalRateBudget()
    return connector


async def test_orders_read_while_the_budget_is_busy_share_calls_and_read_as_they_do_alone(shop: EmulatedShop) -> None:
    order_ids = [shop.place(MORNING, lines=[("MUG-01", 1 + number % 3)]) for number in range(12)]
    alone = [await shop.in_process().get_order(order_id) for order_id in order_ids]
    seen: list[httpx.Request] = []
    connector = budgeted(shop, seen)
    together = await asyncio.gather(*(connector.get_order(order_id) for order_id in order_ids))
    assert together == alone
    # Read alone, each order costs its order, its lines, its customer and its address: 48 calls.
    records = [request for request in seen if not request.url.path.startswith(REFERENCE_PATHS)]
    assert len(records) <= 20
    joined = {request.url.path for request in seen if "filter[id]" in request.url.params}
    assert joined == {"/api/orders", "/api/customers", "/api/addresses"}


async def test_an_order_the_shop_does_not_have_fails_alone_in_a_joined_read(shop: EmulatedShop) -> None:
    present = [shop.place(MORNING) for _ in range(5)]
    seen: list[httpx.Request] = []
    connector = budgeted(shop, seen)
    results = await asyncio.gather(*(connector.get_order(order_id) for order_id in [*present, "99999"]),
                                   return_exceptions=True)  # fmt: skip
    assert [order.id for order in results[:-1] if not isinstance(order, BaseException)] == present
    assert isinstance(results[-1], DataError) and results[-1].status == 404
    assert "order 99999: the shop has no order 99999" in str(results[-1])
    assert any("99999" in request.url.params.get("filter[id]", "") for request in seen)
