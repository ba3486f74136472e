"""The Starweb connector against the emulator: calls per order, tokens, statuses and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shopbridge.connectors.registry import SHOP_SYSTEMS, build_source, secret_fields
from shopbridge.connectors.starweb import StarwebConnector, StarwebSettings
from shopbridge.errors import ConfigError, DataError, TransientError
from shopbridge.model import OrderState
from shopbridge.sandbox import starweb
from shopbridge.sandbox.registry import build_emulator

from .emulated import EmulatedShop

MORNING = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def paths(seen: list[httpx.Request]) -> list[str]:
    return [f"{request.method} {request.url.path}" for request in seen]


async def test_get_order_reads_order_customer_and_addresses_in_one_call() -> None:
    shop = EmulatedShop.seeded()
    order_id = shop.place(MORNING, lines=[("MUG-01", 2), ("TEE-L-WHI", 1)])
    seen: list[httpx.Request] = []
    source = shop.in_process(seen=seen, shop_code="demo")
    first = await source.get_order(order_id)
    await source.get_order(order_id)
    assert paths(seen) == ["POST /api/v2/token"] + [f"GET /api/v2/orders/{order_id}"] * 2
    assert first.customer.email and first.billing_address.city and [line.sku for line in first.lines][:2] == [
        "MUG-01", "TEE-L-WHI"]
    assert first.total_gross.amount == first.total_net.amount * 5 / 4


async def test_shop_code_is_read_once_from_the_shop_when_not_configured() -> None:
    shop = EmulatedShop.seeded()
    order_id = shop.place(MORNING)
    seen: list[httpx.Request] = []
    source = shop.in_process(seen=seen)
    assert (await source.get_order(order_id)).shop == shop.state.shop_code
    await source.get_order(order_id)
    assert paths(seen).count("GET /api/v2/shop") == 1


async def test_token_is_renewed_before_it_expires() -> None:
    shop = EmulatedShop.seeded()
    order_id = shop.place(MORNING)
    seen: list[httpx.Request] = []
    source = shop.in_process(seen=seen, shop_code="demo")
    await source.get_order(order_id)
    token = source.client._token
    assert token is not None
    token.expires_at = datetime.now(UTC) + timedelta(seconds=30)  # inside the renewal margin
    await source.get_order(order_id)
    assert paths(seen).count("POST /api/v2/token") == 2
    assert not any(request.headers.get("authorization") == f"Bearer {token.value}" for request in seen[2:])


async def test_a_token_the_shop_expired_is_renewed_and_the_call_replayed() -> None:
    shop = EmulatedShop.seeded()
    order_id = shop.place(MORNING)
    seen: list[httpx.Request] = []
    source = shop.in_process(seen=seen, shop_code="demo")
    await source.get_order(order_id)
    shop.state.expire_tokens()
    assert (await source.get_order(order_id)).id == order_id
    assert paths(seen)[-3:] == [f"GET /api/v2/orders/{order_id}", "POST /api/v2/token",
                                f"GET /api/v2/orders/{order_id}"]  # fmt: skip


async def test_status_change_between_polls_lists_the_order_again_with_its_new_status() -> None:
    shop = EmulatedShop.seeded(page_size=3)
    placed = [shop.place(MORNING + timedelta(minutes=step)) for step in range(5)]
    source = shop.in_process()
    first = [s for page in [p async for p in source.order_changes(MORNING, MORNING + timedelta(hours=1))] for s in page]
    shop.set_status(placed[1], starweb.STATUS_COMPLETED, MORNING + timedelta(hours=2))
    window = (MORNING + timedelta(hours=1), MORNING + timedelta(hours=3))
    second = [s for page in [p async for p in source.order_changes(*window)] for s in page]
    assert [s.id for s in first] == placed
    assert [(s.id, s.status) for s in second] == [(placed[1], str(starweb.STATUS_COMPLETED))]
    assert (await source.get_order(placed[1])).state is OrderState.SHIPPED


async def test_an_order_with_an_unreadable_change_time_is_listed_not_blocking_the_others() -> None:
    shop = EmulatedShop.seeded(page_size=2)
    placed = [shop.place(MORNING + timedelta(minutes=step)) for step in range(4)]
    shop.state.orders[int(placed[1])]["wireOverrides"] = {"modifiedAt": "yesterday-ish"}
    source = shop.in_process()
    until = MORNING + timedelta(hours=1)
    listed = [s for page in [p async for p in source.order_changes(MORNING, until)] for s in page]
    assert [s.id for s in listed] == [placed[0], placed[2], placed[3], placed[1]]
    assert listed[-1].updated_at == until
    with pytest.raises(DataError, match="modifiedAt"):
        await source.get_order(placed[1])


async def test_orders_without_completed_checkout_are_not_listed() -> None:
    shop = EmulatedShop.seeded()
    shop.clock.now = MORNING
    starweb.place_order(shop.state, complete=False)
    source = shop.in_process()
    assert [page async for page in source.order_changes(MORNING - timedelta(minutes=1), MORNING)] == []


async def test_custom_status_maps_through_the_settings() -> None:
    shop = EmulatedShop.seeded()
    order_id = shop.place(MORNING, status=starweb.STATUS_AWAITING_PAYMENT)
    mapped = shop.in_process(state_map={"5": "pending_payment"})
    assert (await mapped.get_order(order_id)).state is OrderState.PENDING_PAYMENT
    assert (await shop.in_process().get_order(order_id)).state is OrderState.UNKNOWN


async def test_status_history_is_the_current_status() -> None:
    shop = EmulatedShop.seeded()
    order_id = shop.place(MORNING)
    shop.set_status(order_id, starweb.STATUS_PICKING, MORNING + timedelta(minutes=5))
    assert await shop.in_process().status_history(order_id) == [str(starweb.STATUS_PICKING)]


async def test_the_published_rate_limit_is_transient_with_the_sdks_wait() -> None:
    shop = EmulatedShop.seeded()
    order_id = shop.place(MORNING)
    shop.state.rate_limited = True
    shop.state.rate_budget.per_minute = 2
    source = shop.in_process(shop_code="demo")
    await source.get_order(order_id)  # token and one call use the budget
    with pytest.raises(TransientError) as caught:
        await source.get_order(order_id)
    assert caught.value.status == 429 and caught.value.retry_after == 5.0


@pytest.mark.parametrize("order_id", ["abc", "0", "-1", "1/../../shop", "9" * 40, ""])
async def test_ids_that_are_not_order_ids_never_reach_the_wire(order_id: str) -> None:
    seen: list[httpx.Request] = []
    source = EmulatedShop.seeded().in_process(seen=seen, shop_code="demo")
    with pytest.raises(DataError):
        await source.get_order(order_id)
    assert seen == []


async def test_a_wrong_address_is_a_config_error_at_check() -> None:
    shop = EmulatedShop.seeded()
    source = shop.in_process(url="http://shop.test/somewhere-else")
    with pytest.raises(ConfigError):
        await source.check()


async def test_a_shop_code_that_is_not_the_shops_own_is_a_config_error_at_check() -> None:
    shop = EmulatedShop.seeded()
    await shop.in_process(shop_code=shop.state.shop_code).check()
    with pytest.raises(ConfigError, match="shop_code"):
        await shop.in_process(shop_code="another-shop").check()


async def test_the_secret_never_appears_in_errors() -> None:
    shop = EmulatedShop.seeded()
    source = shop.in_process(secret="s3cr3t-value")
    with pytest.raises(ConfigError) as caught:
        await source.check()
    assert "s3cr3t-value" not in str(caught.value) + caught.value.body_excerpt


def test_settings_keep_the_api_root_and_refuse_bad_values() -> None:
    values = {"client_id": "c", "client_secret": "s"}
    assert StarwebSettings.model_validate({"url": "https://demo.starweb.se", **values}).url == (
        "https://demo.starweb.se/api/v2")
    assert StarwebSettings.model_validate({"url": "https://demo.starweb.se/api/v2/", **values}).url == (
        "https://demo.starweb.se/api/v2")
    for bad in ({"url": "ftp://x"}, {"url": "https://u:p@x"}, {"url": "https://x", "timezone": "Mars/Olympus"},
                {"url": "https://x", "client_secret": " s "}):  # fmt: skip
        with pytest.raises(ValueError):
            StarwebSettings.model_validate({**values, **bad})


def test_registered_as_a_shop_with_its_secret_field() -> None:
    assert SHOP_SYSTEMS["starweb"][1] is StarwebConnector
    assert secret_fields(SHOP_SYSTEMS, "starweb") == ("client_secret",)
    source = build_source({"system": "starweb", "url": "https://demo.starweb.se", "client_id": "c",
                           "client_secret": "s"})  # fmt: skip
    assert isinstance(source, StarwebConnector)


def test_sandbox_serve_knows_starweb() -> None:
    emulator = build_emulator("starweb", seed=1, orders=3)
    assert emulator.path == "/api/v2"
    assert emulator.credentials == {"client_id": starweb.DEMO_CLIENT_ID, "client_secret": starweb.DEMO_CLIENT_SECRET}
