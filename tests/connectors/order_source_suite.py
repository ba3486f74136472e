"""The OrderSource contract as one test class: a shop's test module subclasses it and provides the
fixtures `case` (in-process and over loopback), `shop` and `some_order_id`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from . import order_source_contract as contract

PAGE_SIZE = 4
MORNING = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
FALL_BACK = datetime(2024, 10, 27, 1, 0, tzinfo=UTC)  # Copenhagen and Stockholm: 03:00 CEST becomes 02:00 CET
SPRING_FORWARD = datetime(2024, 3, 31, 1, 0, tzinfo=UTC)  # 02:00 CET becomes 03:00 CEST


def minutes(start: datetime, first: int, last: int) -> tuple[datetime, datetime]:
    return start + timedelta(minutes=first), start + timedelta(minutes=last)


class OrderSourceContract:
    """Every shop's emulator is seeded alike: twelve morning orders ten minutes apart, two sharing
    a second, one changed hours later, and orders on both sides of each clock change."""

    async def test_accepts_the_shops_credentials(self, case: contract.OrderSourceCase) -> None:
        await contract.check_accepts_credentials(case)

    async def test_wrong_credentials_are_a_config_error(self, case: contract.OrderSourceCase) -> None:
        await contract.check_refuses_wrong_key(case)

    @pytest.mark.parametrize(
        "window",
        [minutes(MORNING, -1, 120), minutes(MORNING, 10, 30), minutes(MORNING, 50, 50), minutes(MORNING, 0, 240)],
        ids=["morning", "bounds-inclusive", "one-second", "with-later-change"],
    )
    async def test_changes_cover_the_window_exactly(
        self, case: contract.OrderSourceCase, window: tuple[datetime, datetime]
    ) -> None:
        await contract.check_changes_cover_the_window_exactly(case, *window)

    async def test_changes_come_oldest_first_in_bounded_pages(self, case: contract.OrderSourceCase) -> None:
        await contract.check_changes_come_oldest_first_in_bounded_pages(case, *minutes(MORNING, -1, 120))

    async def test_empty_window_yields_no_pages(self, case: contract.OrderSourceCase) -> None:
        await contract.check_empty_window_yields_no_pages(case, *minutes(MORNING, -600, -1))

    @pytest.mark.parametrize(
        "window",
        [minutes(FALL_BACK, -30, 30), minutes(FALL_BACK, 5, 45), minutes(FALL_BACK, -60, 0), minutes(FALL_BACK, 0, 60),
         minutes(FALL_BACK, -55, -45), minutes(SPRING_FORWARD, -30, 30), minutes(SPRING_FORWARD, 0, 60)],
        ids=["autumn-both-passes", "autumn-second-pass", "autumn-before", "autumn-after", "autumn-first-pass",
             "spring-gap", "spring-after"],
    )  # fmt: skip
    async def test_changes_miss_no_order_across_clock_changes(
        self, case: contract.OrderSourceCase, window: tuple[datetime, datetime]
    ) -> None:
        await contract.check_changes_miss_no_order(case, *window)

    async def test_changes_refuse_naive_times(self, case: contract.OrderSourceCase) -> None:
        await contract.check_changes_refuse_naive_times(case)

    async def test_every_listed_order_reads_whole_and_agrees_with_its_summary(
        self, case: contract.OrderSourceCase
    ) -> None:
        pages = await contract.collect(case.source, *minutes(MORNING, -1, 240))
        for summary in [summary for page in pages for summary in page]:
            await contract.check_order_matches_its_summary(case, summary)

    async def test_unknown_order_is_a_data_error(self, case: contract.OrderSourceCase) -> None:
        await contract.check_unknown_order_is_a_data_error(case)

    async def test_rate_limit_is_transient_with_retry_after(self, case: contract.OrderSourceCase) -> None:
        await contract.check_rate_limit_is_transient_with_retry_after(case, *minutes(MORNING, -1, 120))

    async def test_unavailable_shop_is_transient(self, case: contract.OrderSourceCase, some_order_id: str) -> None:
        await contract.check_unavailable_is_transient(case, some_order_id)

    async def test_a_passing_failure_of_a_read_is_absorbed(
        self, case: contract.OrderSourceCase, some_order_id: str
    ) -> None:
        await contract.check_a_passing_failure_of_a_read_is_absorbed(case, some_order_id)

    async def test_gateway_timeout_is_transient(self, case: contract.OrderSourceCase) -> None:
        await contract.check_gateway_timeout_is_transient(case, *minutes(MORNING, -1, 120))

    async def test_batched_status_histories_match_one_by_one(
        self, case: contract.OrderSourceCase, shop: Any
    ) -> None:
        await contract.check_batched_histories_match_one_by_one(case, sorted(shop.changes())[:6])
