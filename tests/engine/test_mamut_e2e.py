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
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import TransferOutput
from shopbridge.engine.poller import TransferStarter, poll_now
from shopbridge.engine.worker import build_worker
from shopbridge.flows.order_polling import PollResult
from shopbridge.sandbox import mamut, prestashop
from shopbridge.sandbox.server import BackgroundServer, serving
from shopbridge.store import Store
from tests.mamut_support import MamutSide, eventually, mamut_side

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
            "shop": {"system": "prestashop", "url": self.shop.url, "key": self.shop_state.api_key,
                     "timeout_seconds": 5},  # fmt: skip
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


async def poll_once(client: Client, world: MamutWorld, task_queue: str, store: Store) -> PollResult:
    return await poll_now(store, world.name, TransferStarter(client, task_queue, RETRY_SECONDS))


async def transfer_result(client: Client, world: MamutWorld, order_id: int) -> TransferOutput:
    handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
    return await handle.result()


def paid_in_shop(world: MamutWorld, order_id: int) -> Decimal:
    return Decimal(world.shop_state.tables["orders"][order_id]["total_paid_tax_incl"]).quantize(Decimal("0.01"))


def total_in_mamut(world: MamutWorld, order: mamut.MamutOrder) -> Decimal:
    net, vat = mamut.order_totals(world.side.erp, order)
    return net + vat


async def test_order_reaches_mamut_once_as_an_unprocessed_order(
    store: Store, world: MamutWorld, client: Client, task_queue: str
) -> None:
    world.side.runner.start()
    world.side.agent_process()
    order_id = prestashop.place_order(world.shop_state, lines=[("MUG-01", 1), ("TEE-L-WHI", 2)])
    await poll_once(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    (placed,) = world.mamut_orders(order_id)
    assert result.state == "transferred" and result.document_kind == "order"
    assert result.document_number == str(placed.number) and placed.status == "UNPROCESSED"
    assert total_in_mamut(world, placed) == paid_in_shop(world, order_id)
    assert placed.customer in world.side.erp.contacts


def files_in(world: MamutWorld, folder: str) -> list[Path]:
    return sorted((world.side.directory / folder).glob("*.xml"))


def adopted(store: Store, world: MamutWorld, result: TransferOutput) -> bool:
    """Found already written: by the flow's lookup in Mamut's export, or by the agent's check before import."""
    job = store.agents.job(world.name, result.transfer_id)
    return result.adopted or (job is not None and job.result.get("adopted") is True)


def known_buyer(world: MamutWorld) -> str:
    """A buyer Mamut already has (matched by e-mail), so the only import file is the order's."""
    mamut.add_customer(world.side.erp, "Anna Jensen", "anna.jensen@example.dk")
    world.side.runner.write_exports()
    return "anna.jensen@example.dk"


async def test_agent_killed_mid_import_and_restarted_imports_once(
    world: MamutWorld, store: Store, client: Client, task_queue: str
) -> None:
    agent = world.side.agent_process()
    order_id = prestashop.place_order(world.shop_state, customer_email=known_buyer(world))
    await poll_once(client, world, task_queue, store)
    await eventually(lambda: len(files_in(world, "import")) == 1)  # written, Mamut not yet running
    agent.kill()
    world.side.runner.start()
    world.side.agent_process()
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred"
    assert len(world.mamut_orders(order_id)) == 1 and len(files_in(world, "done")) == 1
    assert adopted(store, world, result)


async def test_shopbridge_unreachable_the_agent_buffers_and_delivers_later(
    store: Store, world: MamutWorld, client: Client, task_queue: str
) -> None:
    world.side.agent_process()
    order_id = prestashop.place_order(world.shop_state, customer_email=known_buyer(world))
    await poll_once(client, world, task_queue, store)
    await eventually(lambda: len(files_in(world, "import")) == 1)
    world.side.stop_web()
    world.side.runner.start()
    outbox = world.side.directory.parent / "agent-state" / "outbox"
    await eventually(lambda: len(list(outbox.glob("*.json"))) == 1)
    world.side.start_web()
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred" and len(world.mamut_orders(order_id)) == 1
    assert "answers buffered" in world.side.agent_log() and not list(outbox.glob("*.json"))


async def test_file_mamut_rejects_parks_the_order_with_mamuts_reason(
    world: MamutWorld, store: Store, client: Client, task_queue: str
) -> None:
    mamut.add_product(world.side.erp, "CAP-01", "Wool cap", Decimal("119.96"), stock={2: Decimal(5)})
    world.side.runner.write_exports()
    world.side.runner.start()
    world.side.agent_process()
    refused = prestashop.place_order(world.shop_state, lines=[("CAP-01", 1)])
    fine = prestashop.place_order(world.shop_state, lines=[("MUG-01", 1)])
    await poll_once(client, world, task_queue, store)
    with pytest.raises(WorkflowFailureError):
        await transfer_result(client, world, refused)
    assert (await transfer_result(client, world, fine)).state == "transferred"
    row = store.ledger.get(world.transfer_id(refused))
    assert row is not None and row.state == "parked"
    assert "warehouse 1 is not linked to product CAP-01" in (row.last_error or "")
    assert world.mamut_orders(refused) == [] and len(files_in(world, "error")) == 1


async def test_import_whose_confirmation_was_lost_is_adopted_not_repeated(
    world: MamutWorld, store: Store, client: Client, task_queue: str
) -> None:
    first = world.side.agent_process("first-agent")
    order_id = prestashop.place_order(world.shop_state, customer_email=known_buyer(world))
    await poll_once(client, world, task_queue, store)
    await eventually(lambda: len(files_in(world, "import")) == 1)
    world.side.stop_web()
    world.side.runner.start()
    await eventually(lambda: len(world.mamut_orders(order_id)) == 1)
    first.kill()  # the machine is replaced: its buffered answer is gone with it
    world.side.start_web()
    world.side.agent_process("second-agent")
    result = await transfer_result(client, world, order_id)
    (placed,) = world.mamut_orders(order_id)
    assert result.state == "transferred" and result.document_number == str(placed.number)
    assert len(files_in(world, "done")) == 1
    assert adopted(store, world, result)
