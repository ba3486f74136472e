"""The OrderSource contract over the Starweb connector and emulator, in-process and over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from shopbridge.sandbox import starweb
from shopbridge.sandbox.server import serving

from .. import order_source_contract as contract
from ..order_source_suite import FALL_BACK, MORNING, PAGE_SIZE, SPRING_FORWARD, OrderSourceContract
from .emulated import WRONG_SECRET, EmulatedShop


def build_shop() -> EmulatedShop:
    """Twelve morning orders ten minutes apart, two sharing a second, one changed hours later;
    and orders on both sides of the spring and autumn clock changes."""
    shop = EmulatedShop.seeded(page_size=PAGE_SIZE)
    placed = [shop.place(MORNING + timedelta(minutes=step)) for step in range(0, 120, 10)]
    shop.place(MORNING + timedelta(minutes=50))
    shop.set_status(placed[0], starweb.STATUS_COMPLETED, MORNING + timedelta(hours=3))
    for step in (-50, -20, 10, 40, 70):
        shop.place(FALL_BACK + timedelta(minutes=step))
    for step in (-40, -10, 10, 40):
        shop.place(SPRING_FORWARD + timedelta(minutes=step))
    return shop


@pytest.fixture(scope="module")
def shop() -> EmulatedShop:
    return build_shop()


@pytest.fixture(scope="module")
def loopback_url(shop: EmulatedShop) -> Iterator[str]:
    with serving(starweb.create_app(shop.state)) as server:
        yield server.url


@pytest.fixture(scope="module", params=["in_process", "loopback"])
async def case(request: pytest.FixtureRequest, shop: EmulatedShop) -> AsyncIterator[contract.OrderSourceCase]:
    if request.param == "in_process":
        source, wrong = shop.in_process(), shop.in_process(WRONG_SECRET)
    else:
        url = request.getfixturevalue("loopback_url")
        source, wrong = shop.over_http(url), shop.over_http(url, WRONG_SECRET)
    yield contract.OrderSourceCase(source, wrong, shop, PAGE_SIZE, unknown_order_id="999999")
    await source.aclose()
    await wrong.aclose()


@pytest.fixture(autouse=True)
def no_faults_left(shop: EmulatedShop) -> Iterator[None]:
    yield
    shop.faults.clear()


@pytest.fixture
def some_order_id() -> str:
    return "2"


class TestStarwebOrderSource(OrderSourceContract):
    """The shared OrderSource contract over the Starweb connector and emulator."""


async def test_dropped_connection_is_transient_over_loopback(shop: EmulatedShop, loopback_url: str) -> None:
    """Only a real socket can be cut in the middle of a response."""
    source, wrong = shop.over_http(loopback_url), shop.over_http(loopback_url, WRONG_SECRET)
    try:
        case = contract.OrderSourceCase(source, wrong, shop, PAGE_SIZE, unknown_order_id="999999")
        await contract.check_dropped_connection_is_transient(case, "2")
    finally:
        await source.aclose()
        await wrong.aclose()
