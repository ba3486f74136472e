"""The Norce connector over the emulator: channels as shops, minimal calls, statuses, push hints, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from shopbridge.connectors.norce import NorceSettings
from shopbridge.connectors.registry import SHOP_SYSTEMS, secret_fields
from shopbridge.errors import DataError
from shopbridge.model import OrderState
from shopbridge.sandbox import norce
from shopbridge.sandbox.norce.render import order_request

from .emulated import DK, ORDERS_PATH, SE, EmulatedNorce, channels

MORNING = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def shop() -> EmulatedNorce:
    return EmulatedNorce.seeded()


async def test_orders_of_each_channel_carry_that_channel_as_their_shop(shop: EmulatedNorce) -> None:
    danish, swedish = shop.place(MORNING, DK), shop.place(MORNING + timedelta(minutes=1), SE)
    source = shop.in_process()
    pages = [page async for page in source.order_changes(MORNING, MORNING + timedelta(hours=1))]
    assert {(s.id, s.shop) for page in pages for s in page} == {(danish, str(DK)), (swedish, str(SE))}
    order = await source.get_order(swedish)
    assert (order.shop, order.currency) == (str(SE), "SEK")
    assert order.created_at.utcoffset() == timedelta(hours=2)  # Stockholm summer time
    await source.aclose()


async def test_unconfigured_channel_is_neither_listed_nor_read(shop: EmulatedNorce) -> None:
    swedish = shop.place(MORNING, SE)
    only_dk = [item for item in channels(shop.state) if item["application_id"] == DK]
    source = shop.in_process(channels=only_dk)
    assert [page async for page in source.order_changes(MORNING, MORNING + timedelta(hours=1))] == []
    with pytest.raises(DataError, match="not found in the configured channels"):
        await source.get_order(swedish)
    await source.aclose()


async def test_get_order_is_one_query_once_code_tables_are_known(shop: EmulatedNorce) -> None:
    first, second = shop.place(MORNING), shop.place(MORNING)
    seen: list[httpx.Request] = []
    source = shop.in_process(seen=seen)
    await source.get_order(first)
    seen.clear()
    await source.get_order(second)
    assert [request.url.path for request in seen] == [ORDERS_PATH]
    assert seen[0].url.params["$expand"] == "Items,Buyer"
    await source.aclose()


async def test_status_history_fills_in_the_passed_statuses(shop: EmulatedNorce) -> None:
    order_no = shop.place(MORNING, status=norce.Status.CREATED)
    shop.set_status(order_no, norce.Status.DELIVERED, MORNING + timedelta(minutes=5))
    source = shop.in_process()
    assert await source.status_history(order_no) == ["0", "2", "4"]
    await source.aclose()


async def test_channel_state_map_applies_to_that_channel_only(shop: EmulatedNorce) -> None:
    danish, swedish = shop.place(MORNING, DK, status=0), shop.place(MORNING, SE, status=0)
    mapped = [{**item, "state_map": {"0": "pending_payment"}} if item["application_id"] == SE else item
              for item in channels(shop.state)]  # fmt: skip
    source = shop.in_process(channels=mapped)
    assert (await source.get_order(danish)).state is OrderState.PAID
    assert (await source.get_order(swedish)).state is OrderState.PENDING_PAYMENT
    await source.aclose()


async def test_a_pushed_order_names_the_same_shop_and_order_as_the_poll(shop: EmulatedNorce) -> None:
    order_no = shop.place(MORNING, SE)
    order = shop.state.order_by_no(order_no)
    assert order is not None
    source = shop.in_process()
    hint = source.order_hint(order_request(order, shop.state.channels[SE]))
    (summary,) = [s async for page in source.order_changes(MORNING, MORNING) for s in page]
    assert (hint.shop, hint.order_id) == (summary.shop, summary.id)
    await source.aclose()


async def test_hostile_order_number_never_reaches_the_api(shop: EmulatedNorce) -> None:
    seen: list[httpx.Request] = []
    source = shop.in_process(seen=seen)
    with pytest.raises(DataError):
        await source.get_order("1' or ApplicationId eq 102 or OrderNo eq '1")
    assert seen == []
    await source.aclose()


def test_settings_keep_the_secret_secret_and_are_registered() -> None:
    assert SHOP_SYSTEMS["norce"][0] is NorceSettings
    assert secret_fields(SHOP_SYSTEMS, "norce") == ("client_secret",)
    with pytest.raises(ValidationError) as caught:
        NorceSettings.model_validate({"url": "ftp://x", "client_id": "a", "client_secret": "hunter2",
                                      "channels": [{"application_id": 1}]})  # fmt: skip
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "channel_list",
    [[], [{"application_id": 1}, {"application_id": 1}], [{"application_id": 1, "timezone": "Mars/Olympus"}]],
)
def test_settings_refuse_bad_channel_lists(channel_list: list[dict[str, object]]) -> None:
    with pytest.raises(ValidationError):
        NorceSettings.model_validate({"url": "https://demo.api-se.norce.tech", "client_id": "a",
                                      "client_secret": "s", "channels": channel_list})  # fmt: skip
