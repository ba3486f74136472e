"""Polling's cursor rules (ARCHITECTURE.md rule 2) against the real emulator and store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from shopbridge.connection_file import apply_connection
from shopbridge.errors import TransientError
from shopbridge.flows.connection import open_order_flow
from shopbridge.flows.order_polling import ORDERS_CURSOR, STALE_AFTER, PollLimits, PollResult, poll_orders
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.store import Store
from shopbridge.store.tables import OrderTransferRow
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


# --- rounds that keep up under faults ---

QUICK = PollLimits(first_pause_seconds=0.01, max_pause_seconds=0.01)


@pytest.fixture
def small_pages(world: World, store: Store, clock: ShopClock) -> ShopClock:
    settings = world.connection(overlap_seconds=300, initial_lookback_hours=24)
    settings["shop"]["page_size"] = 2
    apply_connection(store, settings)
    return clock


def place_minutes_apart(world: World, clock: ShopClock, count: int, status: int = 2) -> list[str]:
    return [place_at(world, clock, START - timedelta(minutes=30 - minute), status) for minute in range(count)]


async def test_a_failing_page_keeps_the_pages_before_it(world: World, store: Store, small_pages: ShopClock) -> None:
    placed = place_minutes_apart(world, small_pages, 6)
    outage = FaultRule(kind="status", status=503, path="/api/orders")

    def shop_goes_down(_: datetime) -> None:
        if outage not in world.shop_state.faults.rules:
            world.shop_state.faults.add(outage)

    async with open_order_flow(store, world.name) as flow:
        with pytest.raises(TransientError):
            limits = PollLimits(page_retries=1, first_pause_seconds=0.01)
            await poll_orders(flow, now=START, limits=limits, progress=shop_goes_down)
    first_page = placed[:2]
    assert {row.transfer_id for row in store.ledger.list(store.connections.get(world.name).id)} == set(first_page)
    assert cursor_of(store, world) == START - timedelta(minutes=29)


async def test_a_failed_page_is_read_again_within_the_round(world: World, store: Store, small_pages: ShopClock) -> None:
    placed = place_minutes_apart(world, small_pages, 6)
    world.shop_state.faults.add(FaultRule(kind="status", status=503, path="/api/orders", times=2))
    async with open_order_flow(store, world.name) as flow:
        result = await poll_orders(flow, now=START, limits=QUICK)
    assert set(result.admitted) == set(placed) and result.resume_from is None
    assert world.shop_state.faults.fired == 2


async def test_a_round_stops_at_its_page_bound_and_the_next_resumes_there(
    world: World, store: Store, small_pages: ShopClock
) -> None:
    placed = place_minutes_apart(world, small_pages, 5)
    async with open_order_flow(store, world.name) as flow:
        first = await poll_orders(flow, now=START, limits=PollLimits(max_pages=1))
        assert set(first.admitted) == set(placed[:2]) and first.resume_from == START - timedelta(minutes=29)
        rest = await poll_orders(flow, now=START, limits=PollLimits(max_pages=10), resume_from=first.resume_from)
    # The page boundary's own order is read again; nothing before it is.
    assert set(rest.admitted) == set(placed[1:]) and rest.resume_from is None


async def test_histories_of_a_page_are_read_in_one_call(world: World, store: Store, clock: ShopClock) -> None:
    apply_connection(store, world.connection(trigger_statuses=["2"]))
    unpaid = place_minutes_apart(world, clock, 4, status=10)
    shipped = place_at(world, clock, START - timedelta(minutes=2), status=2)
    prestashop.set_order_state(world.shop_state, int(shipped.rsplit("/", 1)[1]), 4)
    counter = world.shop_state.faults.add(FaultRule(kind="latency", seconds=0, path="/api/order_histories"))
    result = await poll_at(store, world, START)
    assert result.admitted == [shipped] and not set(unpaid) & set(result.admitted)
    assert world.shop_state.faults.fired == 1 and counter.times is None


async def test_a_round_costs_the_store_a_few_transactions_however_many_orders_it_admits(
    world: World, store: Store, clock: ShopClock
) -> None:
    # Admission used to be a read and a write per order, on the event loop: a busy page stalled the worker.
    paid = place_minutes_apart(world, clock, 25)
    shipped = place_at(world, clock, START - timedelta(minutes=1), status=2)
    prestashop.set_order_state(world.shop_state, int(shipped.rsplit("/", 1)[1]), 4)
    place_minutes_apart(world, clock, 5, status=10)
    async with open_order_flow(store, world.name) as flow:
        with counting_transactions(store) as transactions:
            result = await poll_orders(flow, now=START)
    assert set(result.admitted) == {*paid, shipped}
    # cursor read, known ids, admissions of the page and of its histories, cursor advance, pending
    assert len(transactions) <= 6


@contextmanager
def counting_transactions(store: Store) -> Iterator[list[object]]:
    begun: list[object] = []

    def record(connection: object) -> None:
        begun.append(connection)

    event.listen(store.database.engine, "begin", record)
    try:
        yield begun
    finally:
        event.remove(store.database.engine, "begin", record)


async def test_pending_leaves_out_transfers_tried_lately_until_they_go_stale(
    world: World, store: Store, clock: ShopClock
) -> None:
    untried, tried, stale = (place_at(world, clock, START - timedelta(minutes=m)) for m in (3, 2, 1))
    await poll_at(store, world, START)
    store.ledger.claim(tried, lease_seconds=0)
    store.ledger.claim(stale, lease_seconds=0)
    # The stale one was last touched longer ago than STALE_AFTER (claims stamp the database's clock).
    with store.database.writing() as session:
        long_ago = datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1)
        session.execute(update(OrderTransferRow.__table__).where(OrderTransferRow.transfer_id == stale)
                        .values(updated_at=long_ago))  # fmt: skip
    result = await poll_at(store, world, START + timedelta(minutes=1))
    assert {row.transfer_id for row in result.pending} == {untried, stale}
