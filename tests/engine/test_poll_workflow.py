"""PollOrders on the real dev server: parked children leave no stray asyncio errors, and a
failing poll shows its cause, not a size-limit placeholder."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import PollInput, PollOutput
from shopbridge.engine.worker import build_worker
from shopbridge.engine.workflows import POLL_HEARTBEAT_TIMEOUT, PollOrdersWorkflow
from shopbridge.flows.order_polling import PollLimits
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.server import free_port
from shopbridge.store import Store
from tests.conftest import World

RETRY_SECONDS = 0.01
# A failing page is read again once, a tenth of a second later: these tests need the failure, not the patience.
QUICK_TO_FAIL = PollLimits(page_retries=1, first_pause_seconds=0.1, max_pause_seconds=0.1)


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    async with build_worker(temporal_env.client, store, task_queue, poll_limits=QUICK_TO_FAIL):
        yield temporal_env.client


@pytest.mark.usefixtures("connection")
async def test_parked_children_log_no_unretrieved_exception(
    world: World, client: Client, task_queue: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    prestashop.add_product(world.shop_state, "LIMITED-01", "Limited edition print", Decimal("240.00"))
    order_id = prestashop.place_order(world.shop_state, lines=[("LIMITED-01", 1)])
    # More children behind it keep the poll running while the parked one ends.
    for _ in range(10):
        prestashop.place_order(world.shop_state, lines=[("MUG-01", 1)])
    with caplog.at_level(logging.ERROR):
        await client.execute_workflow(
            PollOrdersWorkflow.run,
            args=[PollInput(world.name), RETRY_SECONDS],
            id=f"poll-{uuid.uuid4().hex}",
            task_queue=task_queue,
            result_type=PollOutput,
        )
        for _ in range(100):
            row = store.ledger.get(world.transfer_id(order_id))
            if row is not None and row.state == "parked":
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        gc.collect()
    assert store.ledger.get(world.transfer_id(order_id)).state == "parked"
    assert "never retrieved" not in caplog.text


async def test_a_failing_poll_shows_its_cause(world: World, store: Store, client: Client, task_queue: str) -> None:
    unreachable = world.connection()
    unreachable["shop"]["url"] = f"http://127.0.0.1:{free_port()}/"
    apply_connection(store, unreachable)
    handle = await client.start_workflow(
        PollOrdersWorkflow.run,
        args=[PollInput(world.name), RETRY_SECONDS],
        id=f"poll-{uuid.uuid4().hex}",
        task_queue=task_queue,
    )
    # A round retries a few times, then fails: its failure must carry the cause, not a stand-in.
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    causes, error = [], failed.value.cause
    while error is not None:
        causes.append(str(error))
        error = error.__cause__
    message = " | ".join(causes)
    # A failure with its whole cause chain (httpx → httpcore → OSError, each with a stack) is
    # replaced by the server with "Failure exceeds size limit."
    assert "exceeds size limit" not in message
    assert "prestashop" in message


@pytest.mark.usefixtures("connection")
async def test_every_step_of_a_round_beats_so_a_dead_worker_is_noticed_in_seconds(
    world: World, client: Client, task_queue: str
) -> None:
    # Without a heartbeat timeout, a worker killed while starting transfers held the round for a
    # minute, and every later round was skipped behind it.
    prestashop.place_order(world.shop_state, lines=[("MUG-01", 1)])
    handle = await client.start_workflow(
        PollOrdersWorkflow.run,
        args=[PollInput(world.name), RETRY_SECONDS],
        id=f"poll-{uuid.uuid4().hex}",
        task_queue=task_queue,
    )
    output = await handle.result()
    assert output.pending
    scheduled = {
        event.activity_task_scheduled_event_attributes.activity_type.name:
            event.activity_task_scheduled_event_attributes.heartbeat_timeout.ToTimedelta()
        async for event in handle.fetch_history_events()
        if event.HasField("activity_task_scheduled_event_attributes")
    }  # fmt: skip
    assert set(scheduled) == {"poll_orders", "start_transfers"}
    assert all(timedelta(0) < timeout <= POLL_HEARTBEAT_TIMEOUT for timeout in scheduled.values())
