"""The shared rate budget: workers in separate processes on one database keep to one limit."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from pathlib import Path

import pytest

from shopbridge.connectors.calls import RateWindow
from shopbridge.store.rate_budget import HEADROOM, SharedRateBudget, rate_budget_for
from tests.databases import BACKENDS, blank_database

ACCOUNT = "economic-0123456789abcdef01234567"
WINDOW = RateWindow(requests=5, seconds=2)
CALLS_PER_WORKER = 6


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    with blank_database(request.param, tmp_path) as database:
        yield database


def acquire_many(url: str, calls: int) -> list[float]:
    """One worker process: wait for the budget `calls` times, noting the moment of each pass."""

    async def run() -> list[float]:
        budget = SharedRateBudget(url)
        moments = []
        try:
            for _ in range(calls):
                await budget.acquire(ACCOUNT, (WINDOW,))
                moments.append(time.time())
        finally:
            await budget.aclose()
        return moments

    return asyncio.run(run())


def busiest_window(moments: list[float], seconds: float) -> int:
    return max(len([m for m in moments if first <= m < first + seconds]) for first in moments)


def test_two_worker_processes_on_one_budget_never_exceed_the_limit(url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as workers:
        results = workers.starmap(acquire_many, [(url, CALLS_PER_WORKER), (url, CALLS_PER_WORKER)])
    moments = sorted(results[0] + results[1])
    assert len(moments) == 2 * CALLS_PER_WORKER
    assert busiest_window(moments, WINDOW.seconds) <= WINDOW.requests
    # Both workers were held back, not just one of them.
    assert moments[-1] - moments[0] >= 2 * WINDOW.seconds


async def test_a_push_back_after_a_429_holds_another_worker_too(url: str) -> None:
    refused, other = SharedRateBudget(url), SharedRateBudget(url)
    try:
        await refused.push_back(ACCOUNT, 1.0)
        started = time.monotonic()
        await other.acquire(ACCOUNT, (WINDOW,))
        assert time.monotonic() - started >= 0.9
    finally:
        await refused.aclose()
        await other.aclose()


async def test_a_limit_lowered_by_one_connection_still_shares_the_account_count(url: str) -> None:
    lowered = RateWindow(requests=2, seconds=WINDOW.seconds)
    first, second = SharedRateBudget(url), SharedRateBudget(url)
    try:
        await first.acquire(ACCOUNT, (WINDOW,))
        await first.acquire(ACCOUNT, (WINDOW,))
        started = time.monotonic()
        await second.acquire(ACCOUNT, (lowered,))
        assert time.monotonic() - started >= WINDOW.seconds * HEADROOM * 0.8
    finally:
        await first.aclose()
        await second.aclose()


def test_an_in_memory_store_gets_a_budget_of_its_own_process() -> None:
    assert not isinstance(rate_budget_for("sqlite://"), SharedRateBudget)


async def test_a_poll_round_goes_ahead_of_a_backlog_of_transfers_on_another_worker(url: str) -> None:
    # Transfers waiting for the shop's budget kept a poll round's pages waiting behind them: under
    # a backlog, paid orders reached the ledger half a minute late.
    window = RateWindow(requests=10, seconds=0.5)
    transfers, poll = SharedRateBudget(url), SharedRateBudget(url)
    finished: dict[str, float] = {}

    async def routine(number: int) -> None:
        await transfers.acquire(ACCOUNT, (window,))
        finished[f"routine-{number}"] = time.monotonic()

    async def urgent(number: int) -> None:
        await asyncio.sleep(0.2)
        await poll.acquire(ACCOUNT, (window,), urgent=True)
        finished[f"urgent-{number}"] = time.monotonic()

    try:
        await asyncio.gather(*(routine(n) for n in range(100)), *(urgent(n) for n in range(4)))
    finally:
        await transfers.aclose()
        await poll.aclose()
    last_urgent = max(moment for name, moment in finished.items() if name.startswith("urgent"))
    routine_after = [moment for name, moment in finished.items() if name.startswith("routine") and moment > last_urgent]
    # A hundred routine calls need five seconds of windows; the poll's four were through with most still waiting.
    assert len(routine_after) >= 30
