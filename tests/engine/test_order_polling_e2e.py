"""Polling rounds end to end: bounded rounds that continue where they stopped, rounds that fail
fast instead of backing off for minutes, and a worker's poller that starts the transfers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.connectors.calls import READ_REPEATS
from shopbridge.engine.contracts import TransferOutput
from shopbridge.engine.poller import TransferStarter, poll_now
from shopbridge.engine.worker import build_worker
from shopbridge.errors import TransientError
from shopbridge.flows.order_polling import PollLimits, PollResult
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.store import Store
from tests.conftest import World

RETRY_SECONDS = 0.01
ONE_PAGE_ROUNDS = PollLimits(max_pages=1, first_pause_seconds=0.01, max_pause_seconds=0.01)


@pytest.fixture
async def client(
    temporal_env: WorkflowEnvironment, store: Store, world: World, task_queue: str
) -> AsyncIterator[Client]:
    settings = world.connection(poll_interval_seconds=1)
    settings["shop"]["page_size"] = 2
    apply_connection(store, settings)
    async with build_worker(temporal_env.client, store, task_queue):
        yield temporal_env.client


async def poll(client: Client, world: World, task_queue: str, store: Store) -> PollResult:
    starter = TransferStarter(client, task_queue, RETRY_SECONDS)
    return await poll_now(store, world.name, starter, limits=ONE_PAGE_ROUNDS)


async def transferred(client: Client, world: World, order_id: int) -> None:
    handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
    for _ in range(100):
        try:
            assert (await handle.result()).state == "transferred"
            return
        except RPCError:  # not started yet: the round is on its way
            await asyncio.sleep(0.2)
    pytest.fail(f"order {order_id} was never transferred")


async def test_a_round_cut_at_its_bound_continues_until_every_order_is_admitted(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    placed = [prestashop.place_order(world.shop_state) for _ in range(5)]
    last = await poll(client, world, task_queue, store)
    assert last.resume_from is None
    for order_id in placed:
        await transferred(client, world, order_id)


async def test_a_round_that_keeps_failing_ends_in_seconds(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    prestashop.place_order(world.shop_state)
    world.shop_state.faults.add(FaultRule(kind="status", status=503, path="/api/orders"))
    started = time.monotonic()
    with pytest.raises(TransientError):
        await poll(client, world, task_queue, store)
    assert time.monotonic() - started < 20
    # Each page read is sent again READ_REPEATS times before the round pauses and reads it again.
    assert world.shop_state.faults.fired == (ONE_PAGE_ROUNDS.page_retries + 1) * (READ_REPEATS + 1)


async def test_a_workers_poller_admits_and_starts_transfers_on_its_own(
    world: World, store: Store, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    order_id = prestashop.place_order(world.shop_state)
    apply_connection(store, world.connection(poll_interval_seconds=1))
    async with build_worker(temporal_env.client, store, task_queue, poll=True):
        await transferred(temporal_env.client, world, order_id)
