"""Polling rounds through the real Temporal dev server: bounded rounds that continue where they
stopped, and rounds that fail fast instead of backing off for minutes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import PollInput, PollOutput, TransferOutput
from shopbridge.engine.control import ensure_poll_schedule, poll_schedule_id
from shopbridge.engine.worker import build_worker
from shopbridge.engine.workflows import POLL_ATTEMPTS, PollOrdersWorkflow
from shopbridge.flows.order_polling import PollLimits
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
    settings = world.connection()
    settings["shop"]["page_size"] = 2
    apply_connection(store, settings)
    async with build_worker(temporal_env.client, store, task_queue, poll_limits=ONE_PAGE_ROUNDS):
        yield temporal_env.client


async def poll(client: Client, world: World, task_queue: str) -> PollOutput:
    return await client.execute_workflow(
        PollOrdersWorkflow.run,
        args=[PollInput(world.name), RETRY_SECONDS],
        id=f"poll-{uuid.uuid4().hex}",
        task_queue=task_queue,
        result_type=PollOutput,
    )


async def test_a_round_cut_at_its_bound_continues_until_every_order_is_admitted(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    placed = [prestashop.place_order(world.shop_state) for _ in range(5)]
    last = await poll(client, world, task_queue)
    assert last.resume_from == ""
    for order_id in placed:
        handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
        assert (await handle.result()).state == "transferred"


async def test_a_round_that_keeps_failing_ends_in_seconds(world: World, client: Client, task_queue: str) -> None:
    prestashop.place_order(world.shop_state)
    world.shop_state.faults.add(FaultRule(kind="status", status=503, path="/api/orders"))
    started = time.monotonic()
    with pytest.raises(WorkflowFailureError):
        await poll(client, world, task_queue)
    assert time.monotonic() - started < 20
    reads_per_attempt = ONE_PAGE_ROUNDS.page_retries + 1
    assert world.shop_state.faults.fired == POLL_ATTEMPTS * reads_per_attempt


async def test_scheduled_rounds_run_on_the_poll_queue_and_start_transfers(
    world: World, client: Client, task_queue: str
) -> None:
    order_id = prestashop.place_order(world.shop_state)
    await ensure_poll_schedule(client, world.name, task_queue, timedelta(seconds=1))
    try:
        handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
        for _ in range(100):
            try:
                assert (await handle.result()).state == "transferred"
                break
            except RPCError:  # not started yet: the first round is on its way
                await asyncio.sleep(0.2)
        else:
            pytest.fail("no scheduled round started the transfer")
    finally:
        await client.get_schedule_handle(poll_schedule_id(world.name)).delete()
