"""Reference data a connector remembers for a while: each entry trusted for a time, then read again."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TimedCache(Generic[K, V]):
    """Values by key, each trusted for `ttl_seconds`; a miss or a stale entry means a fresh read."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

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

