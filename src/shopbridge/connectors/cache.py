"""Reference data a connector remembers for a while: each entry trusted for a time, then read again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TimedCache(Generic[K, V]):
    """Values by key, each trusted for `ttl_seconds`; a miss or a stale entry means a fresh read.

    `fetch` reads a missing key once however many callers want it at the same moment, and
    remembers only what was found: a None (nothing there) is asked for again next time.
    """

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._reads: dict[K, asyncio.Future[V | None]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] >= self.ttl_seconds:
            return None
        return entry[1]

    def put(self, key: K, value: V) -> V:
        self._entries[key] = (self._clock(), value)
        return value

    def forget(self, *keys: K) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def fetch(self, key: K, read: Callable[[], Awaitable[V | None]]) -> V | None:
        known = self.get(key)
        if known is not None:
            return known
        pending = self._reads.get(key)
        if pending is None:
            pending = self._reads[key] = asyncio.ensure_future(read())
            pending.add_done_callback(lambda _: self._reads.pop(key, None))
        value = await asyncio.shield(pending)
        return value if value is None else self.put(key, value)
