"""The poller: admission into the ledger without Temporal, turns shared by workers, connections
followed as they are applied, disabled, stopped and resumed, and starts asked once a minute."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import OrderRef, TransferOutput
from shopbridge.engine.poller import TURN_LEASE_SECONDS, Poller, TransferStarter, poll_now
from shopbridge.engine.runtime import run_services
from shopbridge.engine.worker import build_worker
from shopbridge.flows.order_polling import PollLimits
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.server import free_port
from shopbridge.settings import Settings
from shopbridge.store import Store
from tests.conftest import World

TICK = 0.1
INTERVAL = 0.5
# A failing page is read again once, a tenth of a second later: these tests need the failure, not the patience.
QUICK_TO_FAIL = PollLimits(page_retries=1, first_pause_seconds=0.1, max_pause_seconds=0.1)


@pytest.fixture
async def running(store: Store, temporal_env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[Poller]:
    """A poller whose transfers go to a queue no worker serves: these tests look at the ledger."""
    poller = Poller(store, TransferStarter(temporal_env.client, task_queue), limits=QUICK_TO_FAIL, tick_seconds=TICK)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    yield poller
    stop.set()
    await task


async def eventually(check: Callable[[], bool], within: float = 10.0) -> float:
    """Seconds until `check()` holds; fails the test after `within`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            pytest.fail(f"not within {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def admitted(store: Store, world: World, order_id: int) -> Callable[[], bool]:
    return lambda: store.ledger.get(world.transfer_id(order_id)) is not None


@pytest.mark.usefixtures("running")
async def test_connections_are_polled_as_they_are_applied_disabled_stopped_and_resumed(
    world: World, store: Store
) -> None:
    first = prestashop.place_order(world.shop_state)
    apply_connection(store, world.connection(poll_interval_seconds=INTERVAL))
    await eventually(admitted(store, world, first))
    store.connections.set_enabled(world.name, False)
    await asyncio.sleep(3 * INTERVAL)  # a round already under way may still finish
    while_disabled = prestashop.place_order(world.shop_state)
    await asyncio.sleep(4 * INTERVAL)
    assert not admitted(store, world, while_disabled)()
    # Stopped before it is enabled again, so no tick sees it usable in between.
    store.connections.set_status(world.name, "config_error", "401 from the shop")
    store.connections.set_enabled(world.name, True)
    await asyncio.sleep(4 * INTERVAL)
    assert not admitted(store, world, while_disabled)()
    store.connections.set_status(world.name, "ok")
    await eventually(admitted(store, world, while_disabled))


async def test_admission_goes_on_while_temporal_is_unreachable(
    world: World, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # A Temporal restart used to stop every poll round: paid orders waited for the ledger.
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    poller = Poller(store, TransferStarter(nowhere, "transfers"), tick_seconds=TICK)
    apply_connection(store, world.connection(poll_interval_seconds=INTERVAL))
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING):
        task = asyncio.create_task(poller.run(stop))
        try:
            order_id = prestashop.place_order(world.shop_state)
            await eventually(admitted(store, world, order_id))
            later = prestashop.place_order(world.shop_state)
            await eventually(admitted(store, world, later))
        finally:
            stop.set()
            await task
    assert store.ledger.get(world.transfer_id(order_id)).state == "pending"
    assert "not started" in caplog.text


async def test_a_dead_workers_turn_is_taken_by_another_once_its_lease_lapses(
    world: World, store: Store, running: Poller
) -> None:
    record = apply_connection(store, world.connection(poll_interval_seconds=INTERVAL))
    # Another worker takes the turn and dies holding it: it never renews and never gives it back.
    assert store.poll_turns.take(record.id, TURN_LEASE_SECONDS) is not None
    order_id = prestashop.place_order(world.shop_state)
    waited = await eventually(admitted(store, world, order_id), within=TURN_LEASE_SECONDS + 5)
    assert waited >= TURN_LEASE_SECONDS - 0.5


async def test_two_workers_take_turns_instead_of_both_polling(
    world: World, store: Store, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    apply_connection(store, world.connection(poll_interval_seconds=INTERVAL))
    # A fault that does nothing but count: every read of the order list.
    world.shop_state.faults.add(FaultRule(kind="latency", seconds=0.0, method="GET", path="/api/orders"))
    stop = asyncio.Event()
    pollers = [
        Poller(store, TransferStarter(temporal_env.client, task_queue), tick_seconds=TICK) for _ in range(2)
    ]
    tasks = [asyncio.create_task(poller.run(stop)) for poller in pollers]
    await asyncio.sleep(10 * INTERVAL)
    stop.set()
    await asyncio.gather(*tasks)
    # One round every interval (each reads one page): about 10, not 20.
    assert 5 <= world.shop_state.faults.fired <= 13


async def test_a_failing_round_logs_its_cause(
    world: World, store: Store, running: Poller, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = world.connection(poll_interval_seconds=INTERVAL)
    unreachable["shop"]["url"] = f"http://127.0.0.1:{free_port()}/"
    with caplog.at_level(logging.WARNING, logger="shopbridge.engine.poller"):
        apply_connection(store, unreachable)
        await eventually(lambda: "poll of" in caplog.text)
    assert world.name in caplog.text and "prestashop" in caplog.text


@pytest.mark.usefixtures("connection")
async def test_parked_transfers_log_no_unretrieved_exception(
    world: World, store: Store, temporal_env: WorkflowEnvironment, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    prestashop.add_product(world.shop_state, "LIMITED-01", "Limited edition print", Decimal("240.00"))
    order_id = prestashop.place_order(world.shop_state, lines=[("LIMITED-01", 1)])
    for _ in range(10):
        prestashop.place_order(world.shop_state, lines=[("MUG-01", 1)])
    with caplog.at_level(logging.ERROR):
        async with build_worker(temporal_env.client, store, task_queue):
            await poll_now(store, world.name, TransferStarter(temporal_env.client, task_queue, 0.01))
            await eventually(lambda: store.ledger.get(world.transfer_id(order_id)).state == "parked")
            await asyncio.sleep(1.0)
        gc.collect()
    assert "never retrieved" not in caplog.text


async def test_a_running_worker_polls_a_connection_applied_after_it_started(
    temporal_env: WorkflowEnvironment, world: World, tmp_path: Path, task_queue: str
) -> None:
    address = temporal_env.client.service_client.config.target_host
    settings = Settings(data_dir=tmp_path, database_url=None, temporal_address=address, task_queue=task_queue)
    stop = asyncio.Event()
    runner = asyncio.create_task(run_services(settings, stop, web=False))
    try:
        await asyncio.sleep(1.0)
        order_id = prestashop.place_order(world.shop_state)
        with Store.open(settings) as running_store:
            apply_connection(running_store, world.connection(poll_interval_seconds=INTERVAL))
        handle = temporal_env.client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
        with Store.open(settings) as running_store:
            await eventually(admitted(running_store, world, order_id))
        assert (await asyncio.wait_for(handle.result(), 30)).state == "transferred"
    finally:
        stop.set()
        await runner


class RunningEverywhere:
    """A Temporal client stand-in on which every transfer already runs; it counts the start requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def start_workflow(self, *args: Any, id: str, **kwargs: Any) -> Any:  # noqa: A002 - Temporal's name
        self.requests.append(id)
        raise WorkflowAlreadyStartedError(id, "OrderTransfer")


async def test_a_backlog_handed_out_by_every_round_is_started_once() -> None:
    client = RunningEverywhere()
    starter = TransferStarter(client, "transfers")  # type: ignore[arg-type]
    backlog = [OrderRef("shop-a", "1", str(number)) for number in range(30)]
    for _ in range(3):  # three rounds hand out the same backlog, waiting for the rate budget
        await starter.start(backlog)
    assert sorted(client.requests) == sorted(f"shop-a/1/{number}" for number in range(30))
    await starter.start([*backlog, OrderRef("shop-a", "1", "31")])
    assert client.requests[-1] == "shop-a/1/31" and len(client.requests) == 31
