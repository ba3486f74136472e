"""The timed cache connectors keep reference data in."""

from __future__ import annotations

import asyncio

from shopbridge.connectors.cache import TimedCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_trusted_until_its_time_is_up_then_read_again() -> None:
    clock = Clock()
    cache: TimedCache[str, str] = TimedCache(60, clock)
    cache.put("1", "DKK")
    clock.now = 59.9
    assert cache.get("1") == "DKK"
    clock.now = 60
    assert cache.get("1") is None


def test_a_forgotten_entry_is_a_miss() -> None:
    cache: TimedCache[str, int] = TimedCache(60)
    cache.put("SKU", 1)
    cache.forget("SKU", "never there")
    assert cache.get("SKU") is None


async def test_callers_at_the_same_moment_share_one_read() -> None:
    cache: TimedCache[str, str] = TimedCache(60)
    reads = 0

    async def read() -> str:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)
        return "DK"

    assert await asyncio.gather(*(cache.fetch("59", read) for _ in range(3))) == ["DK", "DK", "DK"]
    assert await cache.fetch("59", read) == "DK"
    assert reads == 1


async def test_a_read_that_finds_nothing_is_not_remembered() -> None:
    cache: TimedCache[str, int] = TimedCache(60)
    found: list[int | None] = [None, 7]

    async def read() -> int | None:
        return found.pop(0)

    assert await cache.fetch("NEW-01", read) is None
    assert await cache.fetch("NEW-01", read) == 7
