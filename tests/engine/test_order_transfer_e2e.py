"""PrestaShop orders into e-conomic end to end: real emulators over HTTP, the real store and
the real Temporal dev server with a worker on a fresh task queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import OrderRef, TransferOutput
from shopbridge.engine.control import start_transfer
from shopbridge.engine.poller import TransferStarter, poll_now
from shopbridge.engine.worker import build_worker
from shopbridge.engine.workflows import OrderTransferWorkflow
from shopbridge.flows.order_polling import PollResult
from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.store import Store
from shopbridge.web.app import create_app
from tests.conftest import World

RETRY_SECONDS = 0.01  # first back-off interval; the ceiling is 30 times it
# Two transfers for one buyer race for the claim on the ERP customer; the loser waits out the
# claim's lease (30 s by default), so the race is run with a short one.
CUSTOMER_RACE_LEASE_SECONDS = 3.0


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    async with build_worker(temporal_env.client, store, task_queue):
        yield temporal_env.client


async def poll_once(client: Client, world: World, task_queue: str, store: Store) -> PollResult:
    return await poll_now(store, world.name, TransferStarter(client, task_queue, RETRY_SECONDS))


async def transfer_result(client: Client, world: World, order_id: int) -> TransferOutput:
    handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
    return await handle.result()


async def poll_and_transfer(
    client: Client, world: World, task_queue: str, order_id: int, store: Store
) -> TransferOutput:
    await poll_once(client, world, task_queue, store)
    return await transfer_result(client, world, order_id)


def webhook_path(store: Store, world: World) -> str:
    """The webhook URL with the connection's secret in the path (the form for shops that cannot sign)."""
    return f"/webhooks/{world.name}/{store.connections.get(world.name).secrets['webhook_secret']}/orders"


def gross_of(world: World, reference: str) -> Decimal:
    (collection, number), = world.documents(reference)
    return Decimal(str(economic_document(world, collection, number)["grossAmount"]))


def economic_document(world: World, collection: str, number: int) -> dict[str, Any]:
    return economic.get_document(world.erp_state, collection, number)


def paid_in_shop(world: World, order_id: int) -> Decimal:
    return Decimal(world.shop_state.tables["orders"][order_id]["total_paid_tax_incl"]).quantize(Decimal("0.01"))


@pytest.mark.usefixtures("connection")
async def test_happy_path_invoice(store: Store, world: World, client: Client, task_queue: str) -> None:
    order_id = prestashop.place_order(world.shop_state, lines=[("MUG-01", 1), ("TEE-L-WHI", 2)])
    result = await poll_and_transfer(client, world, task_queue, order_id, store)
    assert result.state == "transferred" and result.document_kind == "draft_invoice"
    assert gross_of(world, result.transfer_id) == paid_in_shop(world, order_id)


async def test_happy_path_order(world: World, store: Store, client: Client, task_queue: str) -> None:
    apply_connection(store, world.connection(document="order"))
    order_id = prestashop.place_order(world.shop_state, lines=[("CAP-01", 2)])
    result = await poll_and_transfer(client, world, task_queue, order_id, store)
    assert result.document_kind == "order"
    assert gross_of(world, result.transfer_id) == paid_in_shop(world, order_id)


async def test_status_filtering_holds_unpaid_orders_until_paid(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    apply_connection(store, world.connection())
    unpaid = prestashop.place_order(world.shop_state, status=10)
    paid = prestashop.place_order(world.shop_state, status=2)
    polled = await poll_once(client, world, task_queue, store)
    assert [ref.order_id for ref in polled.pending] == [str(paid)]
    await transfer_result(client, world, paid)
    prestashop.set_order_state(world.shop_state, unpaid, 2)
    assert (await poll_and_transfer(client, world, task_queue, unpaid, store)).state == "transferred"


async def test_customer_is_reused_across_orders(world: World, store: Store, client: Client, task_queue: str) -> None:
    apply_connection(store, world.connection(lease_seconds=CUSTOMER_RACE_LEASE_SECONDS))
    economic.add_customer(world.erp_state, name="Anna Jensen", email="anna.jensen@example.dk")
    first = prestashop.place_order(world.shop_state, customer_email="anna.jensen@example.dk")
    second = prestashop.place_order(world.shop_state, customer_email="anna.jensen@example.dk")
    await poll_once(client, world, task_queue, store)
    await transfer_result(client, world, first)
    await transfer_result(client, world, second)
    assert len(world.erp_state.tables["customers"]) == 1


@pytest.mark.usefixtures("connection")
async def test_replayed_transfer_creates_no_second_document(
    store: Store, world: World, client: Client, task_queue: str
) -> None:
    order_id = prestashop.place_order(world.shop_state)
    first = await poll_and_transfer(client, world, task_queue, order_id, store)
    ref = OrderRef(world.name, "1", str(order_id))
    assert await start_transfer(client, ref, task_queue) is None  # the id of a finished transfer is refused
    forced = await client.execute_workflow(
        OrderTransferWorkflow.run, args=[ref, RETRY_SECONDS], id=f"replay-{uuid.uuid4().hex}", task_queue=task_queue
    )
    await poll_once(client, world, task_queue, store)
    assert forced.document_number == first.document_number
    assert len(world.documents(first.transfer_id)) == 1


@pytest.mark.usefixtures("connection")
async def test_crash_after_erp_write_creates_no_duplicate(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    world.erp_state.faults.add(FaultRule(kind="drop_after_commit", method="POST", path="/invoices/drafts", times=1))
    order_id = prestashop.place_order(world.shop_state)
    result = await poll_and_transfer(client, world, task_queue, order_id, store)
    assert result.state == "transferred" and result.adopted
    assert len(world.documents(result.transfer_id)) == 1
    assert store.ledger.get(result.transfer_id).attempts >= 2


@pytest.mark.usefixtures("connection")
async def test_429_storm_and_5xx_end_in_one_transfer(
    store: Store, world: World, client: Client, task_queue: str
) -> None:
    # Temporal spaces activity retries at least a second apart, so the storm is kept short.
    world.erp_state.faults.add(FaultRule(kind="status", status=429, retry_after=0.2, times=4))
    world.erp_state.faults.add(FaultRule(kind="status", status=503, method="POST", times=1))
    world.shop_state.faults.add(FaultRule(kind="status", status=500, path="/api/orders/", times=1))
    order_id = prestashop.place_order(world.shop_state)
    result = await poll_and_transfer(client, world, task_queue, order_id, store)
    assert result.state == "transferred"
    assert len(world.documents(result.transfer_id)) == 1
    assert world.erp_state.faults.fired == 5 and world.shop_state.faults.fired == 1


@pytest.mark.usefixtures("connection")
async def test_poisoned_order_is_parked_and_the_others_flow(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    prestashop.add_product(world.shop_state, "NOT-IN-ERP", "Shop-only print", Decimal("100.00"))
    before = prestashop.place_order(world.shop_state)
    poisoned = prestashop.place_order(world.shop_state, lines=[("NOT-IN-ERP", 1)])
    after = prestashop.place_order(world.shop_state)
    await poll_once(client, world, task_queue, store)
    assert (await transfer_result(client, world, before)).state == "transferred"
    assert (await transfer_result(client, world, after)).state == "transferred"
    with pytest.raises(WorkflowFailureError):
        await transfer_result(client, world, poisoned)
    row = store.ledger.get(world.transfer_id(poisoned))
    assert row.state == "parked" and "NOT-IN-ERP" in (row.last_error or "")


@pytest.mark.usefixtures("connection")
async def test_parked_order_can_be_retried_after_the_fix(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    prestashop.add_product(world.shop_state, "NEW-SKU", "New product", Decimal("80.00"))
    order_id = prestashop.place_order(world.shop_state, lines=[("NEW-SKU", 1)])
    await poll_once(client, world, task_queue, store)
    with pytest.raises(WorkflowFailureError):
        await transfer_result(client, world, order_id)
    economic.add_product(world.erp_state, "NEW-SKU", "New product", Decimal("80.00"))
    tid = world.transfer_id(order_id)
    store.ledger.release_for_retry(tid)
    handle = await start_transfer(client, OrderRef(world.name, "1", str(order_id)), task_queue, RETRY_SECONDS)
    assert handle is not None
    assert (await handle.result()).state == "transferred"


@pytest.mark.usefixtures("connection")
async def test_webhook_and_poll_racing_for_one_order_write_one_document(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    order_id = prestashop.place_order(world.shop_state)
    web = create_app(store, client, task_queue)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://shopbridge") as http:
        webhook = http.post(webhook_path(store, world), json={"id": str(order_id), "shop": "1"})
        response, _ = await asyncio.gather(webhook, poll_once(client, world, task_queue, store))
    assert response.status_code == 202
    result = await transfer_result(client, world, order_id)
    await poll_once(client, world, task_queue, store)
    assert result.state == "transferred"
    assert len(world.documents(result.transfer_id)) == 1


async def test_webhook_for_an_unpaid_order_transfers_nothing_until_it_is_paid(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    apply_connection(store, world.connection())
    order_id = prestashop.place_order(world.shop_state, status=10)
    web = create_app(store, client, task_queue)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://shopbridge") as http:
        await http.post(webhook_path(store, world), json={"id": str(order_id), "shop": "1"})
    with pytest.raises(WorkflowFailureError):
        await transfer_result(client, world, order_id)
    assert store.ledger.get(world.transfer_id(order_id)) is None
    assert world.documents(world.transfer_id(order_id)) == []
    prestashop.set_order_state(world.shop_state, order_id, 2)
    assert (await poll_and_transfer(client, world, task_queue, order_id, store)).state == "transferred"


async def test_webhook_for_an_order_already_shipped_after_payment_transfers_it(
    world: World, store: Store, client: Client, task_queue: str
) -> None:
    apply_connection(store, world.connection(trigger_statuses=["2"]))
    order_id = prestashop.place_order(world.shop_state, status=2)
    prestashop.set_order_state(world.shop_state, order_id, 4)
    handle = await start_transfer(client, OrderRef(world.name, "1", str(order_id)), task_queue, RETRY_SECONDS)
    assert handle is not None
    assert (await handle.result()).state == "transferred"
