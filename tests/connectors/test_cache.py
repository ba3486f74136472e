"""The timed cache connectors keep reference data in."""

from __future__ import annotations

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
