"""Exactly once through the real engine when e-conomic commits writes after the client gave up
and lists new documents late."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import OrderRef, TransferOutput
from shopbridge.engine.control import start_transfer
from shopbridge.engine.worker import build_worker
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.store import Store
from tests.conftest import World

RETRY_SECONDS = 0.05
CLIENT_TIMEOUT = 1.0
LATE_BY = 0.5
VISIBLE_AFTER = 0.5
# Orders of one buyer race for the claim on the ERP customer and the loser waits out the lease:
# short, yet well above the longest step under the claim (settle wait, then a timed-out write).
LEASE_SECONDS = 8.0


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    async with build_worker(temporal_env.client, store, task_queue):
        yield temporal_env.client


async def transfer_all(client: Client, world: World, task_queue: str, orders: list[int]) -> list[TransferOutput]:
    handles = []
    for order_id in orders:
        handle = await start_transfer(client, OrderRef(world.name, "1", str(order_id)), task_queue, RETRY_SECONDS)
        assert handle is not None
        handles.append(handle)
    return list(await asyncio.gather(*(handle.result() for handle in handles)))


async def test_late_commits_and_late_listing_leave_one_document_per_order(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    connection = world.connection(settle_seconds=CLIENT_TIMEOUT + LATE_BY + VISIBLE_AFTER + 0.5,
                                  lease_seconds=LEASE_SECONDS)
    connection["erp"]["timeout_seconds"] = CLIENT_TIMEOUT
    apply_connection(store, connection)
    world.erp_state.faults.add(FaultRule(kind="late_commit", method="POST", path="/invoices/drafts",
                                         probability=0.3, seconds=CLIENT_TIMEOUT + LATE_BY))  # fmt: skip
    world.erp_state.faults.add(FaultRule(kind="delayed_visibility", path="/invoices/drafts", seconds=VISIBLE_AFTER))
    orders = [prestashop.place_order(world.shop_state) for _ in range(10)]
    results = await transfer_all(client, world, task_queue, orders)
    assert {result.state for result in results} == {"transferred"}
    assert world.erp_state.faults.fired > 0  # some writes did commit late
    assert world.duplicates() == 0
    assert all(len(world.documents(world.transfer_id(order_id))) == 1 for order_id in orders)

