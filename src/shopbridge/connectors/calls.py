"""Remote calls counted by purpose and paced by one rate budget per remote account."""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import math
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shopbridge.errors import TransientError

T = TypeVar("T")


class RateWindow(BaseModel):
    """At most `requests` calls in any `seconds` long window (a connection file's `rate_limit`)."""

    model_config = ConfigDict(frozen=True)

    requests: int = Field(ge=1)
    seconds: float = Field(gt=0)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def effective_windows(published: tuple[RateWindow, ...], configured: RateWindow | None) -> tuple[RateWindow, ...]:
    """The published limits plus the connection's own window, which may lower them, never raise them."""
    if configured is None:
        return published
    same_length = [window for window in published if window.seconds == configured.seconds]
    chosen = min([configured, *same_length], key=lambda window: window.requests)
    others = [window for window in published if window.seconds != configured.seconds]
    return tuple(sorted([*others, chosen], key=lambda window: window.seconds))


def ordered_windows(windows: tuple[RateWindow, ...]) -> tuple[RateWindow, ...]:
    """Shortest first, each longer window allowing more calls at a lower rate.

    A shorter window allowing as many calls as a longer one is implied by it and dropped; a
    longer window at a higher rate is (all but) implied by the shorter one and dropped too.
    """
    kept: list[RateWindow] = []
    for window in sorted(windows, key=lambda window: (window.seconds, window.requests)):
        while kept and kept[-1].requests >= window.requests:
            kept.pop()
        if not kept or window.per_second <= kept[-1].per_second:
            kept.append(window)
    return tuple(kept)


# Share of every window that routine calls (transfers) leave free while urgent ones (a poll round
# feeding the ledger) were made in the last URGENT_HOLD_SECONDS, so a backlog of transfers waiting
# for the budget never starves the poll that admits new orders; without urgent calls, routine ones
# have the whole window.
URGENT_RESERVE = 0.2
URGENT_HOLD_SECONDS = 2.0
_urgent: ContextVar[bool] = ContextVar("shopbridge_urgent_calls", default=False)


@contextmanager
def urgent_calls() -> Iterator[None]:
    """Calls made inside may use the whole budget, ahead of routine calls."""
    token = _urgent.set(True)
    try:
        yield
    finally:
        _urgent.reset(token)


# The rank of the calls made in this context: an order's transfer ranks its calls by when the order
# was admitted, so a process sends the calls of older orders first.
_rank: ContextVar[float | None] = ContextVar("shopbridge_call_rank", default=None)


@contextmanager
def ranked_calls(rank: float) -> Iterator[None]:
    """Calls made inside wait for the budget behind this process's calls of a lower rank."""
    token = _rank.set(rank)
    try:
        yield
    finally:
        _rank.reset(token)


class RankedTurns:
    """The callers of one account in one process, let through to the budget one at a time, lowest
    rank first (urgent calls before all). Without it every waiting transfer got an equal share of
    the budget: forty orders in flight each took twenty seconds, all finishing together, and a
    worker killed in that time threw away the calls of all its orders. Oldest first, an order's
    calls come one after another and it is done in a second or two."""

    def __init__(self) -> None:
        self._waiting: list[tuple[tuple[int, float], int, asyncio.Future[None]]] = []
        self._busy = False
        self._order = itertools.count()

    @asynccontextmanager
    async def turn(self, rank: tuple[int, float]) -> AsyncIterator[None]:
        if self._busy:
            handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (rank, next(self._order), handed))
            try:
                await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():
                    self._next()  # the turn came with the cancellation: pass it on
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._next()

    def _next(self) -> None:
        while self._waiting:
            _, _, handed = heapq.heappop(self._waiting)
            if not handed.done():  # a cancelled waiter is skipped
                handed.set_result(None)
                return
        self._busy = False


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RankedTurns]] = weakref.WeakKeyDictionary()


def turns_of(account: str) -> RankedTurns:
    """The account's turns in this process (per event loop: tests run several)."""
    return _turns.setdefault(asyncio.get_running_loop(), {}).setdefault(account, RankedTurns())


def routine_windows(windows: tuple[RateWindow, ...]) -> tuple[RateWindow, ...]:
    """The part of each window routine calls may use."""
    return tuple(
        RateWindow(requests=max(1, math.floor(window.requests * (1 - URGENT_RESERVE))), seconds=window.seconds)
        for window in windows
    )


def account_key(system: str, base_url: str, *credentials: str) -> str:
    """Who a budget belongs to: the system, its URL and a hash of the credentials, never a secret."""
    digest = hashlib.sha256("\0".join((system, base_url.rstrip("/"), *credentials)).encode()).hexdigest()
    return f"{system}-{digest[:24]}"


def account_gate(
    system: str,
    base_url: str,
    credentials: tuple[str, ...],
    published: tuple[RateWindow, ...],
    configured: RateWindow | None,
    budget: RateBudget | None,
) -> CallGate:
    """The gate of one remote account: its published limits, lowered by the connection if asked."""
    return CallGate(account_key(system, base_url, *credentials), effective_windows(published, configured), budget)


class RateBudget(Protocol):
    """Shared by every worker: `acquire` waits for room, `push_back` stops every caller a while.

    While urgent calls are being made, a routine call waits for room in its share
    (`routine_windows`) before the whole window; an urgent one only ever in the whole window."""

    async def acquire(self, account: str, windows: tuple[RateWindow, ...], urgent: bool = False) -> None: ...

    async def push_back(self, account: str, seconds: float) -> None: ...

    async def aclose(self) -> None: ...


ROUTINE_PREFIX = "routine-"


class LocalRateBudget:
    """One process's budget, for tests and one-shot runs without a store."""

    def __init__(self) -> None:
        self._calls: dict[str, list[float]] = {}
        self._paused_until: dict[str, float] = {}
        self._urgent_until: dict[str, float] = {}

    async def acquire(self, account: str, windows: tuple[RateWindow, ...], urgent: bool = False) -> None:
        routine = ROUTINE_PREFIX + account
        while True:
            # Looked at afresh after every wait: urgent calls may have begun meanwhile.
            now = time.monotonic()
            if urgent:
                self._urgent_until[account] = now + URGENT_HOLD_SECONDS
            wait = max(self._paused_until.get(account, 0.0) - now, self._wait(account, windows, now))
            if not urgent and self._urgent_until.get(account, 0.0) > now:
                wait = max(wait, self._wait(routine, routine_windows(windows), now))
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._calls.setdefault(account, []).append(now)
        if not urgent:
            self._calls.setdefault(routine, []).append(now)

    async def push_back(self, account: str, seconds: float) -> None:
        until = time.monotonic() + seconds
        self._paused_until[account] = max(self._paused_until.get(account, 0.0), until)

    async def aclose(self) -> None:
        self._calls.clear()

    def _wait(self, counted: str, windows: tuple[RateWindow, ...], now: float) -> float:
        calls = self._calls.setdefault(counted, [])
        longest = max((window.seconds for window in windows), default=0.0)
        calls[:] = [moment for moment in calls if moment > now - longest]
        wait = 0.0
        for window in windows:
            recent = [moment for moment in calls if moment > now - window.seconds]
            if len(recent) >= window.requests:
                wait = max(wait, recent[-window.requests] + window.seconds - now)
        return wait


# A read that fails transiently (5xx, 429, a timeout) is sent again this many times, short pauses
# apart, inside the same attempt. With one call in ten failing, an order's half-dozen reads failed
# its attempt about every other time and sent it into the engine's growing back-off: under faults
# the backlog hardly moved. Writes are never repeated here; their outcome decides what comes next.
READ_REPEATS = 2
READ_REPEAT_PAUSE_SECONDS = 0.5
# A Retry-After longer than this, or a failure that took longer (a timeout), is left to the engine.
READ_REPEAT_MAX_WAIT_SECONDS = 5.0


async def repeating_reads(attempt: Callable[[], Awaitable[T]], *, repeatable: bool) -> T:
    """`attempt()`, sent again up to READ_REPEATS times, short pauses apart, when it is
    repeatable (a read) and failed transiently and fast."""
    repeats = READ_REPEATS if repeatable else 0
    for repeat in range(repeats + 1):
        began = time.monotonic()
        try:
            return await attempt()
        except TransientError as exc:
            pause = exc.retry_after or READ_REPEAT_PAUSE_SECONDS * 2**repeat
            slow = time.monotonic() - began > READ_REPEAT_MAX_WAIT_SECONDS
            if repeat == repeats or slow or pause > READ_REPEAT_MAX_WAIT_SECONDS:
                raise
            await asyncio.sleep(pause)
    raise AssertionError("unreachable: the last repeat returns or raises")


# An urgent read (a poll's page) not answered within this many seconds is sent a second time, and
# the first answer wins: under faults a poll page hung until the client's timeout (seconds) now
# and then, and every order paid meanwhile reached the ledger that much later.
HEDGE_AFTER_SECONDS = 1.5


async def hedged(attempt: Callable[[], Awaitable[T]], again: Callable[[], Awaitable[T]], after: float) -> T:
    """`attempt()`; if it has not finished after `after` seconds, `again()` beside it: the first
    to succeed wins and the other is cancelled; if both fail, the last failure is raised."""
    first = asyncio.ensure_future(attempt())
    running = {first}
    try:
        done, _ = await asyncio.wait(running, timeout=after)
        if done:
            return first.result()
        running.add(asyncio.ensure_future(again()))
        failure: BaseException | None = None
        while running:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is None:
                    return task.result()
                failure = task.exception()
        assert failure is not None
        raise failure
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


class CallGate:
    """What a client's single send method passes through: count the purpose, wait for the budget,
    and send a failed read again."""

    def __init__(self, account: str, windows: tuple[RateWindow, ...], budget: RateBudget | None = None) -> None:
        self.account = account
        self.windows = windows
        self.budget = budget
        self.calls: Counter[str] = Counter()

    async def enter(self, purpose: str) -> None:
        self.calls[purpose] += 1
        if self.budget is not None and self.windows:
            urgent = _urgent.get()
            ranked = _rank.get()
            rank = (0 if urgent else 1, time.time() if ranked is None else ranked)
            async with turns_of(self.account).turn(rank):
                await self.budget.acquire(self.account, self.windows, urgent=urgent)

    async def send(self, purpose: str, attempt: Callable[[], Awaitable[T]], *, repeatable: bool) -> T:
        """Run one call through the gate (`attempt` raises ShopBridge errors); a repeatable one
        (a read) is sent again as `repeating_reads` says, through the gate each time."""

        async def entered() -> T:
            await self.enter(purpose)
            return await attempt()

        async def hedged_read() -> T:
            await self.enter(purpose)
            return await hedged(attempt, entered, HEDGE_AFTER_SECONDS)

        # A poll's reads admit paid orders: one stuck until the client's timeout would hold them all.
        hedge = repeatable and _urgent.get()
        return await repeating_reads(hedged_read if hedge else entered, repeatable=repeatable)

    async def refused(self, retry_after: float | None) -> None:
        """A 429 from the remote: every caller of this account holds back for Retry-After."""
        if self.budget is not None and retry_after:
            await self.budget.push_back(self.account, retry_after)
