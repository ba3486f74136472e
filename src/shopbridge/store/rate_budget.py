"""One rate budget per remote account, shared by every worker through the store's database.

The counting is pyrate-limiter's sliding-window log: an SQLite bucket (file-locked, so processes
on one machine share it) beside the embedded store, a PostgreSQL bucket in the store's database
when scaled out. A 429's Retry-After pauses the account for everyone via one small table here; the same table
marks an account on which urgent calls (a poll round) are being made, so routine ones leave
them a share of the window (connectors/calls.py).
Every SQL call runs in a worker thread: nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool
from pyrate_limiter import AbstractBucket, PostgresBucket, Rate, RateItem, SQLiteBucket
from sqlalchemy.engine import make_url

from shopbridge.connectors.calls import (
    ROUTINE_PREFIX,
    URGENT_HOLD_SECONDS,
    LocalRateBudget,
    RateBudget,
    RateWindow,
    ordered_windows,
    routine_windows,
)
from shopbridge.store.database import normalise_url

# Calls reach the remote a little later than they leave here, and not evenly: a window a few
# per cent longer than the published one keeps a burst from landing inside the remote's window.
HEADROOM = 1.05
# A bucket that could not even look (PostgreSQL's table lock is taken NOWAIT) tries again soon.
CONTENTION_WAIT_SECONDS = 0.005
T = TypeVar("T")
BUDGET_THREADS = 8
LEAK_EVERY = 200  # admitted calls between clean-ups of entries older than every window

_SQLITE_PAUSES = (
    "CREATE TABLE IF NOT EXISTS rate_budget_pauses (account TEXT PRIMARY KEY, until_epoch REAL NOT NULL)",
    "SELECT account, until_epoch FROM rate_budget_pauses WHERE account IN ({})",
    "INSERT INTO rate_budget_pauses (account, until_epoch) VALUES (?, ?) "
    "ON CONFLICT (account) DO UPDATE SET until_epoch = max(until_epoch, excluded.until_epoch)",
)
_POSTGRES_PAUSES = (
    "CREATE TABLE IF NOT EXISTS rate_budget_pauses (account TEXT PRIMARY KEY, until_epoch DOUBLE PRECISION NOT NULL)",
    "SELECT account, until_epoch FROM rate_budget_pauses WHERE account IN ({})",
    "INSERT INTO rate_budget_pauses (account, until_epoch) VALUES (%s, %s) ON CONFLICT (account) "
    "DO UPDATE SET until_epoch = GREATEST(rate_budget_pauses.until_epoch, excluded.until_epoch)",
)


def pyrate_rates(windows: tuple[RateWindow, ...]) -> list[Rate]:
    """Windows as pyrate-limiter rates, in the order it requires."""
    return [Rate(window.requests, round(window.seconds * 1000 * HEADROOM)) for window in ordered_windows(windows)]


class _Backend:
    """Where the buckets and the pause table live: one SQLite file or one PostgreSQL database."""

    def __init__(self, url: str) -> None:
        parsed = make_url(normalise_url(url))
        self.postgres = parsed.get_backend_name() == "postgresql"
        if self.postgres:
            conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self.pool: ConnectionPool[Any] = ConnectionPool(conninfo, min_size=1, max_size=4, open=True)
            self._queries = _POSTGRES_PAUSES
            self._placeholder = "%s"
        else:
            store_file = Path(parsed.database or "shopbridge.db")
            # Beside the store, not inside it: budget writes must not queue behind ledger writes.
            self.sqlite_path = str(store_file.with_name(store_file.stem + "-budget.sqlite"))
            self._sqlite = sqlite3.connect(self.sqlite_path, timeout=30, check_same_thread=False)
            # One connection, used from the budget's threads: one statement at a time.
            self._sqlite_lock = threading.Lock()
            self._queries = _SQLITE_PAUSES
            self._placeholder = "?"
        _despite_a_concurrent_create(lambda: self._execute(self._queries[0]))

    def bucket(self, table: str, rates: list[Rate]) -> AbstractBucket:
        if self.postgres:
            return _despite_a_concurrent_create(lambda: PostgresBucket(self.pool, table, rates))
        return SQLiteBucket.init_from_file(rates, table=table, db_path=self.sqlite_path, use_file_lock=True)

    def marks(self, *accounts: str) -> tuple[float, ...]:
        """The `until_epoch` of each account's row, 0 where it has none, in one query."""
        query = self._queries[1].format(", ".join([self._placeholder] * len(accounts)))
        rows = self._execute(query, accounts, every=True)
        found = {str(account): float(until) for account, until in rows}
        return tuple(found.get(account, 0.0) for account in accounts)

    def pause(self, account: str, until_epoch: float) -> None:
        self._execute(self._queries[2], (account, until_epoch))

    def close(self) -> None:
        if self.postgres:
            self.pool.close()
        else:
            with self._sqlite_lock:
                self._sqlite.close()

    def _execute(self, query: str, parameters: tuple[Any, ...] = (), every: bool = False) -> Any:
        if self.postgres:
            with self.pool.connection() as connection:
                return _rows(connection.execute(query, parameters), every)
        with self._sqlite_lock, self._sqlite:
            return _rows(self._sqlite.execute(query, parameters), every)


def _despite_a_concurrent_create(create: Callable[[], T]) -> T:
    """Run a `CREATE TABLE IF NOT EXISTS`; when another worker creates the same table at the same
    moment, PostgreSQL refuses one of them (a unique violation on its catalogue): then it exists."""
    try:
        return create()
    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
        return create()


def _rows(cursor: Any, every: bool) -> Any:
    if not cursor.description:
        return None
    return cursor.fetchall() if every else cursor.fetchone()


class SharedRateBudget:
    """Calls wait for room in their account's window; a 429 pauses the account for every worker."""

    def __init__(self, url: str) -> None:
        self._backend = _Backend(url)
        self._buckets: dict[tuple[str, tuple[RateWindow, ...]], AbstractBucket] = {}
        self._admitted = 0
        self._lock = threading.Lock()
        # Threads of its own: pacing must not queue behind ledger writes in the loop's default pool.
        self._threads = ThreadPoolExecutor(max_workers=BUDGET_THREADS, thread_name_prefix="rate-budget")

    async def acquire(self, account: str, windows: tuple[RateWindow, ...], urgent: bool = False) -> None:
        whole = await self._run(self._bucket, account, windows)
        routine = None if urgent else await self._run(self._bucket, ROUTINE_PREFIX + account, routine_windows(windows))
        while (wait := await self._run(self._try, account, whole, routine)) > 0:
            await asyncio.sleep(wait)

    async def push_back(self, account: str, seconds: float) -> None:
        await self._run(self._backend.pause, account, time.time() + seconds)

    async def aclose(self) -> None:
        await self._run(self._close)
        self._threads.shutdown(wait=False)

    def _bucket(self, account: str, windows: tuple[RateWindow, ...]) -> AbstractBucket:
        key = (account, windows)
        with self._lock:
            if key not in self._buckets:
                table = f"rate_{account.replace('-', '_')}"
                self._buckets[key] = self._backend.bucket(table, pyrate_rates(windows))
            return self._buckets[key]

    def _try(self, account: str, whole: AbstractBucket, routine: AbstractBucket | None) -> float:
        """Seconds to wait before trying again, or 0 when this call may go now. A routine call
        (`routine` given) first needs room in its share while urgent calls are being made."""
        now = time.time()
        paused_until, urgent_until = self._backend.marks(account, ROUTINE_PREFIX + account)
        if paused_until > now:
            return paused_until - now
        if routine is None:
            self._mark_urgent(account, now, urgent_until)
        elif urgent_until > now and (wait := self._put(routine, account)) > 0:
            return wait
        return self._put(whole, account)

    def _put(self, bucket: AbstractBucket, account: str) -> float:
        # The bucket's clock: PostgreSQL's own, so machines with skewed clocks agree on windows.
        item = RateItem(account, bucket.now())  # type: ignore[no-untyped-call]
        if bucket.put(item):
            self._leak_now_and_then(bucket, item.timestamp)
            return 0.0
        waiting = bucket.waiting(item)
        milliseconds = waiting if isinstance(waiting, int) else 0
        return max(milliseconds / 1000, CONTENTION_WAIT_SECONDS)

    def _mark_urgent(self, account: str, now: float, urgent_until: float) -> None:
        # Renewed once half of it has passed: the mark only has to stay fresh.
        if urgent_until < now + URGENT_HOLD_SECONDS / 2:
            self._backend.pause(ROUTINE_PREFIX + account, now + URGENT_HOLD_SECONDS)

    def _leak_now_and_then(self, bucket: AbstractBucket, now: int) -> None:
        self._admitted += 1
        if self._admitted % LEAK_EVERY == 0:
            bucket.leak(now)

    def _close(self) -> None:
        if not self._backend.postgres:  # a PostgreSQL bucket would close the shared pool
            for bucket in self._buckets.values():
                bucket.close()
        self._buckets.clear()
        self._backend.close()

    async def _run(self, function: Callable[..., Any], *arguments: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._threads, function, *arguments)


def rate_budget_for(url: str) -> RateBudget:
    """The shared budget on the store's database; an in-memory store gets a process-local one."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return LocalRateBudget()
    return SharedRateBudget(url)
