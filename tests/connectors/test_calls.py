"""Per-purpose call counts, rate windows and the process-local budget."""

from __future__ import annotations

import asyncio
import time

from shopbridge.connectors.calls import (
    CallGate,
    LocalRateBudget,
    RateWindow,
    account_key,
    effective_windows,
    ordered_windows,
)

FIVE_A_SECOND = RateWindow(requests=5, seconds=1)
DAILY = RateWindow(requests=50_000, seconds=86_400)


def test_a_slower_connection_window_replaces_the_published_one_of_its_length() -> None:
    slower = RateWindow(requests=2, seconds=1)
    assert effective_windows((FIVE_A_SECOND, DAILY), slower) == (slower, DAILY)


def test_a_connection_cannot_raise_its_budget_above_the_published_limit() -> None:
    faster = RateWindow(requests=100, seconds=1)
    assert effective_windows((FIVE_A_SECOND, DAILY), faster) == (FIVE_A_SECOND, DAILY)


def test_a_longer_connection_window_is_added_to_the_published_ones() -> None:
    hourly = RateWindow(requests=1_000, seconds=3_600)
    assert effective_windows((FIVE_A_SECOND, DAILY), hourly) == (FIVE_A_SECOND, hourly, DAILY)


def test_windows_implied_by_others_are_dropped_for_ordering() -> None:
    three_per_ten = RateWindow(requests=3, seconds=10)
    assert ordered_windows((FIVE_A_SECOND, three_per_ten)) == (three_per_ten,)
    faster_longer = RateWindow(requests=100, seconds=10)
    assert ordered_windows((faster_longer, FIVE_A_SECOND, DAILY)) == (FIVE_A_SECOND, DAILY)


def test_a_system_without_a_published_limit_takes_the_connection_window() -> None:
    assert effective_windows((), FIVE_A_SECOND) == (FIVE_A_SECOND,)


def test_account_key_names_url_and_credentials_without_holding_the_secret() -> None:
    key = account_key("economic", "https://restapi.e-conomic.com/", "app-secret", "grant")
    assert key == account_key("economic", "https://restapi.e-conomic.com", "app-secret", "grant")
    assert key != account_key("economic", "https://restapi.e-conomic.com", "app-secret", "other grant")
    assert "secret" not in key and "grant" not in key


async def test_the_gate_counts_every_call_by_purpose() -> None:
    gate = CallGate("shop", ())
    for purpose in ("get_order", "get_address", "get_order"):
        await gate.enter(purpose)
    assert dict(gate.calls) == {"get_order": 2, "get_address": 1}


async def test_the_local_budget_never_lets_more_than_the_window_through() -> None:
    budget, window = LocalRateBudget(), RateWindow(requests=3, seconds=0.3)
    moments: list[float] = []

    async def call() -> None:
        await budget.acquire("account", (window,))
        moments.append(time.monotonic())

    await asyncio.gather(*(call() for _ in range(7)))
    for first in moments:
        assert len([m for m in moments if first <= m < first + window.seconds]) <= window.requests


async def test_a_push_back_holds_every_caller_of_the_account() -> None:
    budget = LocalRateBudget()
    await budget.push_back("account", 0.3)
    started = time.monotonic()
    await budget.acquire("account", (FIVE_A_SECOND,))
    assert time.monotonic() - started >= 0.25
    started = time.monotonic()
    await budget.acquire("another account", (FIVE_A_SECOND,))
    assert time.monotonic() - started < 0.25


async def test_urgent_calls_pass_a_backlog_of_routine_ones() -> None:
    budget, window = LocalRateBudget(), RateWindow(requests=10, seconds=0.5)
    order: list[str] = []

    async def call(name: str, urgent: bool, after: float) -> None:
        await asyncio.sleep(after)
        await budget.acquire("account", (window,), urgent=urgent)
        order.append(name)

    routine = [call("routine", False, 0.0) for _ in range(60)]
    urgent = [call("urgent", True, 0.2) for _ in range(4)]
    await asyncio.gather(*routine, *urgent)
    assert order.index("urgent") < 40 and len(order) - 1 - order[::-1].index("urgent") < 40


async def test_routine_calls_alone_have_the_whole_window() -> None:
    budget, window = LocalRateBudget(), RateWindow(requests=10, seconds=0.5)
    started = time.monotonic()
    await asyncio.gather(*(budget.acquire("account", (window,)) for _ in range(10)))
    assert time.monotonic() - started < window.seconds
