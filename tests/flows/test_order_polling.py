"""Polling's cursor rules (ARCHITECTURE.md rule 2) against the real emulator and store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from shopbridge.connection_file import apply_connection
from shopbridge.flows.connection import open_order_flow
from shopbridge.flows.order_polling import ORDERS_CURSOR, PollResult, poll_orders
from shopbridge.sandbox import prestashop
from shopbridge.store import Store
from tests.conftest import World

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class ShopClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(world: World, store: Store) -> ShopClock:
    shop_clock = ShopClock()
    world.shop_state.clock = shop_clock
    apply_connection(store, world.connection(overlap_seconds=300, initial_lookback_hours=24))
    return shop_clock


def place_at(world: World, clock: ShopClock, at: datetime, status: int = 2) -> str:
    clock.now = at
    return world.transfer_id(prestashop.place_order(world.shop_state, status=status))


async def poll_at(store: Store, world: World, now: datetime) -> PollResult:
    async with open_order_flow(store, world.name) as flow:
        return await poll_orders(flow, now=now)


def cursor_of(store: Store, world: World) -> datetime | None:
    return store.cursors.get(store.connections.get(world.name).id, ORDERS_CURSOR)


async def test_first_poll_looks_back_the_configured_hours(world: World, store: Store, clock: ShopClock) -> None:
    old = place_at(world, clock, START - timedelta(hours=30))
    recent = place_at(world, clock, START - timedelta(hours=2))
    result = await poll_at(store, world, START)
    assert recent in result.admitted and old not in result.admitted


async def test_cursor_moves_to_the_newest_change_read_and_not_to_the_run_start(
    world: World, store: Store, clock: ShopClock
) -> None:
    place_at(world, clock, START - timedelta(minutes=10))
    await poll_at(store, world, START)
    assert cursor_of(store, world) == START - timedelta(minutes=10)


async def test_cursor_stays_when_nothing_changed(world: World, store: Store, clock: ShopClock) -> None:
    place_at(world, clock, START - timedelta(minutes=10))
    await poll_at(store, world, START)
    await poll_at(store, world, START + timedelta(hours=1))
    assert cursor_of(store, world) == START - timedelta(minutes=10)


async def test_order_changed_after_the_run_started_waits_for_the_next_run(
    world: World, store: Store, clock: ShopClock
) -> None:
    late = place_at(world, clock, START + timedelta(seconds=30))
    assert late not in (await poll_at(store, world, START)).admitted
    assert late in (await poll_at(store, world, START + timedelta(minutes=1))).admitted


async def test_overlap_window_catches_an_order_committed_behind_the_cursor(
    world: World, store: Store, clock: ShopClock
) -> None:
    place_at(world, clock, START - timedelta(minutes=1))
    await poll_at(store, world, START)
    # A slow checkout commits with a timestamp two minutes before what the last run saw.
    straggler = place_at(world, clock, START - timedelta(minutes=3))
    assert straggler in (await poll_at(store, world, START + timedelta(minutes=1))).admitted


async def test_pending_lists_every_admitted_order_not_yet_transferred(
    world: World, store: Store, clock: ShopClock
) -> None:
    first = place_at(world, clock, START - timedelta(minutes=5))
    await poll_at(store, world, START)
    second = place_at(world, clock, START + timedelta(minutes=5))
    result = await poll_at(store, world, START + timedelta(minutes=10))
    assert {row.transfer_id for row in result.pending} == {first, second}


async def test_every_order_of_the_repeated_autumn_hour_is_admitted(
    world: World, store: Store, clock: ShopClock
) -> None:
    # Copenhagen repeats 02:00-03:00 local on 2026-10-25: 00:00-02:00 UTC reads as that hour twice.
    change = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    placed = [place_at(world, clock, change + timedelta(minutes=minutes)) for minutes in (-50, -10, 10, 50)]
    result = await poll_at(store, world, change + timedelta(hours=2))
    assert set(placed) <= set(result.admitted)


async def test_order_that_passed_through_a_trigger_status_between_polls_is_admitted(
    world: World, store: Store, clock: ShopClock
) -> None:
    apply_connection(store, world.connection(trigger_statuses=["2"], overlap_seconds=300))
    shipped = place_at(world, clock, START - timedelta(minutes=5), status=2)
    prestashop.set_order_state(world.shop_state, int(shipped.rsplit("/", 1)[1]), 4)
    never_paid = place_at(world, clock, START - timedelta(minutes=4), status=10)
    result = await poll_at(store, world, START)
    assert shipped in result.admitted
    assert never_paid not in result.admitted
