"""The OrderSource contract over the PrestaShop connector and emulator, in-process and over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shopbridge.sandbox import prestashop
from shopbridge.sandbox.server import serving

from .. import order_source_contract as contract
from .emulated import WRONG_KEY, EmulatedShop

PAGE_SIZE = 4
MORNING = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
FALL_BACK = datetime(2024, 10, 27, 1, 0, tzinfo=UTC)  # Copenhagen: 03:00 CEST becomes 02:00 CET
SPRING_FORWARD = datetime(2024, 3, 31, 1, 0, tzinfo=UTC)  # Copenhagen: 02:00 CET becomes 03:00 CEST


def minutes(start: datetime, first: int, last: int) -> tuple[datetime, datetime]:
    return start + timedelta(minutes=first), start + timedelta(minutes=last)


def build_shop() -> EmulatedShop:
    """Twelve morning orders ten minutes apart, two sharing a second, one changed hours later;
    and orders on both sides of the spring and autumn clock changes."""
    shop = EmulatedShop.seeded()
    placed = [shop.place(MORNING + timedelta(minutes=step)) for step in range(0, 120, 10)]
    shop.place(MORNING + timedelta(minutes=50))
    shop.set_status(placed[0], 4, MORNING + timedelta(hours=3))
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
    with serving(prestashop.create_app(shop.state)) as server:
        yield server.url


@pytest.fixture(scope="module", params=["in_process", "loopback"])
async def case(request: pytest.FixtureRequest, shop: EmulatedShop) -> AsyncIterator[contract.OrderSourceCase]:
    if request.param == "in_process":
        source, wrong = shop.in_process(page_size=PAGE_SIZE), shop.in_process(WRONG_KEY)
    else:
        url = request.getfixturevalue("loopback_url")
        source, wrong = shop.over_http(url, page_size=PAGE_SIZE), shop.over_http(url, WRONG_KEY)
    yield contract.OrderSourceCase(source, wrong, shop, PAGE_SIZE, unknown_order_id="999999")
    await source.aclose()
    await wrong.aclose()


@pytest.fixture(autouse=True)
def no_faults_left(shop: EmulatedShop) -> Iterator[None]:
    yield
    shop.faults.clear()


async def test_accepts_the_shops_key(case: contract.OrderSourceCase) -> None:
    await contract.check_accepts_credentials(case)


async def test_wrong_key_is_a_config_error(case: contract.OrderSourceCase) -> None:
    await contract.check_refuses_wrong_key(case)


@pytest.mark.parametrize(
    "window",
    [minutes(MORNING, -1, 120), minutes(MORNING, 10, 30), minutes(MORNING, 50, 50), minutes(MORNING, 0, 240)],
    ids=["morning", "bounds-inclusive", "one-second", "with-later-change"],
)
async def test_changes_cover_the_window_exactly(
    case: contract.OrderSourceCase, window: tuple[datetime, datetime]
) -> None:
    await contract.check_changes_cover_the_window_exactly(case, *window)


async def test_changes_come_oldest_first_in_bounded_pages(case: contract.OrderSourceCase) -> None:
    await contract.check_changes_come_oldest_first_in_bounded_pages(case, *minutes(MORNING, -1, 120))


async def test_empty_window_yields_no_pages(case: contract.OrderSourceCase) -> None:
    await contract.check_empty_window_yields_no_pages(case, *minutes(MORNING, -600, -1))


@pytest.mark.parametrize(
    "window",
    [minutes(FALL_BACK, -30, 30), minutes(FALL_BACK, 5, 45), minutes(FALL_BACK, -60, 0), minutes(FALL_BACK, 0, 60),
     minutes(FALL_BACK, -55, -45), minutes(SPRING_FORWARD, -30, 30), minutes(SPRING_FORWARD, 0, 60)],
    ids=["autumn-both-passes", "autumn-second-pass", "autumn-before", "autumn-after", "autumn-first-pass",
         "spring-gap", "spring-after"],
)
async def test_changes_miss_no_order_across_clock_changes(
    case: contract.OrderSourceCase, window: tuple[datetime, datetime]
) -> None:
    await contract.check_changes_miss_no_order(case, *window)


async def test_changes_refuse_naive_times(case: contract.OrderSourceCase) -> None:
    await contract.check_changes_refuse_naive_times(case)


async def test_every_listed_order_reads_whole_and_agrees_with_its_summary(case: contract.OrderSourceCase) -> None:
    pages = await contract.collect(case.source, *minutes(MORNING, -1, 240))
    for summary in [summary for page in pages for summary in page]:
        await contract.check_order_matches_its_summary(case, summary)


async def test_unknown_order_is_a_data_error(case: contract.OrderSourceCase) -> None:
    await contract.check_unknown_order_is_a_data_error(case)


async def test_rate_limit_is_transient_with_retry_after(case: contract.OrderSourceCase) -> None:
    await contract.check_rate_limit_is_transient_with_retry_after(case, *minutes(MORNING, -1, 120))


async def test_unavailable_shop_is_transient(case: contract.OrderSourceCase) -> None:
    await contract.check_unavailable_is_transient(case, "2")


async def test_gateway_timeout_is_transient(case: contract.OrderSourceCase) -> None:
    await contract.check_gateway_timeout_is_transient(case, *minutes(MORNING, -1, 120))


async def test_dropped_connection_is_transient_over_loopback(shop: EmulatedShop, loopback_url: str) -> None:
    """Only a real socket can be cut in the middle of a response."""
    source, wrong = shop.over_http(loopback_url), shop.over_http(loopback_url, WRONG_KEY)
    try:
        case = contract.OrderSourceCase(source, wrong, shop, PAGE_SIZE, unknown_order_id="999999")
        await contract.check_dropped_connection_is_transient(case, "2")
    finally:
        await source.aclose()
        await wrong.aclose()


async def test_batched_status_histories_match_one_by_one(case: contract.OrderSourceCase, shop: EmulatedShop) -> None:
    await contract.check_batched_histories_match_one_by_one(case, sorted(shop.changes())[:6])
