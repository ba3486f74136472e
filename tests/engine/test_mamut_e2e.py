"""PrestaShop orders into Mamut end to end: the real engine and store, ShopBridge's agent API on
loopback, the agent as its own process and the Mamut emulator watching its folders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import PollInput, PollOutput, TransferOutput
from shopbridge.engine.worker import build_worker
from shopbridge.engine.workflows import PollOrdersWorkflow
from shopbridge.sandbox import mamut, prestashop
from shopbridge.sandbox.server import BackgroundServer, serving
from shopbridge.store import Store
from tests.mamut_support import MamutSide, mamut_side

RETRY_SECONDS = 0.01


@dataclass
class MamutWorld:
    shop_state: prestashop.PrestaShopState
    shop: BackgroundServer
    side: MamutSide
    name: str

    def connection(self, **erp: Any) -> dict[str, Any]:
        settings = {"system": "mamut", "url": self.side.url, "agent_token": self.side.token, "confirm_seconds": 3,
                    "poll_seconds": 0.05, "timeout_seconds": 5} | erp  # fmt: skip
        return {
            "name": self.name,
            "shop": {"system": "prestashop", "url": self.shop.url, "key": self.shop_state.api_key, "timeout_seconds": 5},
            "erp": settings,
            "orders": {"trigger_statuses": ["2", "3", "4", "5"], "document": "order"},
        }

    def transfer_id(self, order_id: int) -> str:
        return f"{self.name}/1/{order_id}"

    def mamut_orders(self, order_id: int) -> list[mamut.MamutOrder]:
        return self.side.erp.orders_by_external(self.transfer_id(order_id))


@pytest.fixture
def world(store: Store, tmp_path: Path) -> Iterator[MamutWorld]:
    name = f"mamut-{uuid.uuid4().hex[:8]}"
    shop_state = prestashop.seeded_state(seed=7)
    side = mamut_side(store, tmp_path, name)
    try:
        with serving(prestashop.create_app(shop_state)) as shop:
            world = MamutWorld(shop_state, shop, side, name)
            apply_connection(store, world.connection())
            yield world
    finally:
        side.close()


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    async with build_worker(temporal_env.client, store, task_queue):
        yield temporal_env.client


async def poll_once(client: Client, world: MamutWorld, task_queue: str) -> PollOutput:
    return await client.execute_workflow(
        PollOrdersWorkflow.run, args=[PollInput(world.name), RETRY_SECONDS], id=f"poll-{uuid.uuid4().hex}",
        task_queue=task_queue, result_type=PollOutput,
    )  # fmt: skip


async def transfer_result(client: Client, world: MamutWorld, order_id: int) -> TransferOutput:
    handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
    return await handle.result()


def paid_in_shop(world: MamutWorld, order_id: int) -> Decimal:
    return Decimal(world.shop_state.tables["orders"][order_id]["total_paid_tax_incl"]).quantize(Decimal("0.01"))


def total_in_mamut(world: MamutWorld, order: mamut.MamutOrder) -> Decimal:
    net, vat = mamut.order_totals(world.side.erp, order)
    return net + vat


async def test_order_reaches_mamut_once_as_an_unprocessed_order(
    world: MamutWorld, client: Client, task_queue: str
) -> None:
    world.side.runner.start()
    world.side.agent_process()
    order_id = prestashop.place_order(world.shop_state, lines=[("MUG-01", 1), ("TEE-L-WHI", 2)])
    await poll_once(client, world, task_queue)
    result = await transfer_result(client, world, order_id)
    (placed,) = world.mamut_orders(order_id)
    assert result.state == "transferred" and result.document_kind == "order"
    assert result.document_number == str(placed.number) and placed.status == "UNPROCESSED"
    assert total_in_mamut(world, placed) == paid_in_shop(world, order_id)
    assert placed.customer in world.side.erp.contacts
