"""Per-purpose call counts, rate windows, the process-local budget and reads sent again."""

from __future__ import annotations

import asyncio
import time

import pytest

from shopbridge.connectors import calls
from shopbridge.connectors.calls import (
    READ_REPEATS,
    CallGate,
    LocalRateBudget,
    RateWindow,
    account_key,
    effective_windows,
    ordered_windows,
    ranked_calls,
    repeating_reads,
    urgent_calls,
)
from shopbridge.errors import DataError, TransientError

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


class Flaky:
    """An attempt that raises the given errors in turn, then answers 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def unavailable(retry_after: float | None = None) -> TransientError:
    return TransientError("503", "shop", "get_order", 503, retry_after=retry_after)


async def test_a_read_that_fails_in_passing_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls, "READ_REPEAT_PAUSE_SECONDS", 0.01)
    attempt = Flaky(unavailable(), unavailable())
    assert await repeating_reads(attempt, repeatable=True) == "ok"
    assert attempt.calls == 3


async def test_a_lasting_failure_of_a_read_reaches_the_caller_after_its_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calls, "READ_REPEAT_PAUSE_SECONDS", 0.01)
    attempt = Flaky(*(unavailable() for _ in range(READ_REPEATS + 1)))
    with pytest.raises(TransientError):
        await repeating_reads(attempt, repeatable=True)
    assert attempt.calls == READ_REPEATS + 1


async def test_a_write_is_never_sent_again() -> None:
    attempt = Flaky(unavailable())
    with pytest.raises(TransientError):
        await repeating_reads(attempt, repeatable=False)
    assert attempt.calls == 1


async def test_only_transient_failures_are_repeated() -> None:
    attempt = Flaky(DataError("no such order", "shop", "get_order", 404))
    with pytest.raises(DataError):
        await repeating_reads(attempt, repeatable=True)
    assert attempt.calls == 1


async def test_a_long_retry_after_is_left_to_the_engine() -> None:
    attempt = Flaky(unavailable(retry_after=calls.READ_REPEAT_MAX_WAIT_SECONDS + 1))
    started = time.monotonic()
    with pytest.raises(TransientError):
        await repeating_reads(attempt, repeatable=True)
    assert attempt.calls == 1 and time.monotonic() - started < 1


async def test_a_short_retry_after_is_waited_for_before_the_repeat() -> None:
    attempt = Flaky(unavailable(retry_after=0.3))
    started = time.monotonic()
    assert await repeating_reads(attempt, repeatable=True) == "ok"
    assert time.monotonic() - started >= 0.3


async def test_a_slow_failure_such_as_a_timeout_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls, "READ_REPEAT_MAX_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(calls, "READ_REPEAT_PAUSE_SECONDS", 0.01)  # the pause alone would allow a repeat

    async def timed_out() -> str:
        await asyncio.sleep(0.1)
        raise unavailable()

    counted = Flaky()

    async def attempt() -> str:
        await counted()
        return await timed_out()

    with pytest.raises(TransientError):
        await repeating_reads(attempt, repeatable=True)
    assert counted.calls == 1


async def test_the_gate_counts_and_paces_every_repeat() -> None:
    gate = CallGate("shop-x", (RateWindow(requests=100, seconds=1),), LocalRateBudget())
    attempt = Flaky(unavailable(retry_after=0.01))
    assert await gate.send("get_order", attempt, repeatable=True) == "ok"
    assert gate.calls["get_order"] == 2


async def test_an_older_orders_calls_go_first_so_orders_finish_one_after_another() -> None:
    # Every waiting transfer used to get an equal share: all ten orders finished together at the
    # end, and a worker killed meanwhile threw away the calls of all of them.
    gate = CallGate("shop-y", (RateWindow(requests=10, seconds=0.25),), LocalRateBudget())
    passed: list[int] = []

    async def transfer(order: int) -> None:
        with ranked_calls(float(order)):
            for _ in range(5):
                await gate.enter("get_order")
                passed.append(order)

    for _ in range(10):  # the window is full: every order has to wait its turn
        await gate.enter("list_orders")
    await asyncio.gather(*(transfer(order) for order in reversed(range(10))))
    last_call = {order: max(i for i, who in enumerate(passed) if who == order) for order in range(10)}
    # The oldest is through after its own five calls and its neighbour's, not after forty; the
    # older half is through before any of the younger half.
    assert last_call[0] <= 12
    assert max(last_call[order] for order in range(5)) < min(last_call[order] for order in range(6, 10))


async def test_urgent_calls_go_ahead_of_every_ranked_one() -> None:
    gate = CallGate("shop-z", (RateWindow(requests=10, seconds=0.25),), LocalRateBudget())
    passed: list[str] = []

    async def transfer(order: int) -> None:
        with ranked_calls(float(order)):
            for _ in range(3):
                await gate.enter("get_order")
                passed.append(f"order-{order}")

    async def poll() -> None:
        await asyncio.sleep(0.1)  # the transfers are queued by now
        with urgent_calls():
            await gate.enter("list_orders")
        passed.append("poll")

    await asyncio.gather(*(transfer(order) for order in range(10)), poll())
    assert passed.index("poll") <= 12  # behind the few calls under way when it came, not behind thirty


async def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    gate = CallGate("shop-w", (RateWindow(requests=2, seconds=0.2),), LocalRateBudget())
    waiters = [asyncio.create_task(gate.enter("get_order")) for _ in range(6)]
    await asyncio.sleep(0.05)
    waiters[3].cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert sum(isinstance(result, asyncio.CancelledError) for result in results) == 1
    assert all(result is None for index, result in enumerate(results) if index != 3)


class Slow:
    """An attempt whose first call hangs far longer than the hedge waits; later calls answer at once."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(30)
        return f"answer {self.calls}"


async def test_a_polls_hung_read_is_answered_by_a_second_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls, "HEDGE_AFTER_SECONDS", 0.1)
    gate, attempt = CallGate("shop-h", ()), Slow()
    started = time.monotonic()
    with urgent_calls():
        assert await gate.send("list_orders", attempt, repeatable=True) == "answer 2"
    assert time.monotonic() - started < 5 and gate.calls["list_orders"] == 2


async def test_a_transfers_read_and_any_write_are_never_hedged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls, "HEDGE_AFTER_SECONDS", 0.01)
    gate = CallGate("shop-h", ())

    async def answer_in_a_moment() -> str:
        await asyncio.sleep(0.1)
        return "ok"

    assert await gate.send("get_order", answer_in_a_moment, repeatable=True) == "ok"
    with urgent_calls():
        assert await gate.send("update_status", answer_in_a_moment, repeatable=False) == "ok"
    assert gate.calls == {"get_order": 1, "update_status": 1}


async def test_a_hedged_read_that_fails_both_times_raises() -> None:
    async def hangs_then_fails() -> str:
        await asyncio.sleep(0.2)
        raise unavailable()

    async def fails() -> str:
        raise unavailable()

    with pytest.raises(TransientError):
        await calls.hedged(hangs_then_fails, fails, 0.05)
