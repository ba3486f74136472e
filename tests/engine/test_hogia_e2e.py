"""PrestaShop orders into Hogia Smart end to end: both emulators over loopback HTTP, the real store
and the real Temporal dev server with a worker on a fresh task queue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import TransferOutput
from shopbridge.engine.poller import TransferStarter, poll_now
from shopbridge.engine.worker import build_worker
from shopbridge.flows.order_polling import PollResult
from shopbridge.sandbox import hogia, prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.server import BackgroundServer, serving
from shopbridge.store import Store
from tests.conftest import SETTLE_SECONDS

RETRY_SECONDS = 0.01  # first back-off interval; the ceiling is 300 times it
INVOICES_PATH = f"/{hogia.DEMO_ORGANIZATION_ID}/customerinvoices"


@dataclass
class HogiaWorld:
    """A PrestaShop emulator and a Hogia emulator serving over loopback HTTP."""

    shop_state: prestashop.PrestaShopState
    erp_state: hogia.HogiaState
    shop: BackgroundServer
    erp: BackgroundServer
    name: str = field(default_factory=lambda: f"hogia-{uuid.uuid4().hex[:8]}")

    def connection(self, **orders: Any) -> dict[str, Any]:
        return {
            "name": self.name,
            "shop": {
                "system": "prestashop", "url": self.shop.url, "key": self.shop_state.api_key, "timeout_seconds": 5
            },  # fmt: skip
            "erp": {
                "system": "hogia",
                "url": self.erp.url,
                "client_id": self.erp_state.client_id,
                "client_secret": self.erp_state.client_secret,
                "organization_id": self.erp_state.organization_id,
                "timeout_seconds": 5,
            },
            "orders": {"trigger_statuses": ["2", "3", "4", "5"], "document": "invoice",
                       "settle_seconds": SETTLE_SECONDS} | orders,
        }

    def transfer_id(self, order_id: int) -> str:
        return f"{self.name}/1/{order_id}"

    def documents(self, reference: str) -> list[tuple[str, str]]:
        return hogia.documents_by_reference(self.erp_state).get(reference, [])

    def gross(self, reference: str) -> Decimal:
        (invoice,) = [item for item in self.erp_state.invoices.values()
                      if item["invoiceHeader"]["externalReference"] == reference]  # fmt: skip
        return Decimal(invoice["invoiceHeader"]["grossAmount"])


@pytest.fixture
def world(store: Store) -> Iterator[HogiaWorld]:
    shop_state = prestashop.seeded_state(seed=7)
    erp_state = hogia.seeded_state(seed=7)
    with serving(prestashop.create_app(shop_state)) as shop, serving(hogia.create_app(erp_state)) as erp:
        built = HogiaWorld(shop_state, erp_state, shop, erp)
        apply_connection(store, built.connection())
        yield built


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    async with build_worker(temporal_env.client, store, task_queue):
        yield temporal_env.client


async def poll_once(client: Client, world: HogiaWorld, task_queue: str, store: Store) -> PollResult:
    return await poll_now(store, world.name, TransferStarter(client, task_queue, RETRY_SECONDS))


async def transfer_result(client: Client, world: HogiaWorld, order_id: int) -> TransferOutput:
    handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
    return await handle.result()


def paid_in_shop(world: HogiaWorld, order_id: int) -> Decimal:
    return Decimal(world.shop_state.tables["orders"][order_id]["total_paid_tax_incl"]).quantize(Decimal("0.01"))


async def test_order_becomes_a_draft_invoice_with_the_shops_total(
    store: Store, world: HogiaWorld, client: Client, task_queue: str
) -> None:
    order_id = prestashop.place_order(world.shop_state, lines=[("MUG-01", 1), ("TEE-L-WHI", 2)])
    await poll_once(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred" and result.document_kind == "draft_invoice"
    assert world.gross(result.transfer_id) == paid_in_shop(world, order_id)
    (invoice,) = world.erp_state.invoices.values()
    assert "fraktavg" in [line["itemNumber"] for line in invoice["invoiceLines"]]


async def test_invoices_are_booked_when_the_connection_says_so(
    world: HogiaWorld, store: Store, client: Client, task_queue: str
) -> None:
    apply_connection(store, world.connection(book_invoices=True))
    order_id = prestashop.place_order(world.shop_state, lines=[("CAP-01", 2)])
    await poll_once(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    assert (result.document_kind, result.document_number) == ("booked_invoice", "5001")
    assert world.documents(result.transfer_id) == [("booked_invoice", "5001")]


async def test_crash_after_the_invoice_is_written_adopts_it(
    world: HogiaWorld, store: Store, client: Client, task_queue: str
) -> None:
    world.erp_state.faults.add(FaultRule(kind="drop_after_commit", method="POST", path=INVOICES_PATH, times=1))
    order_id = prestashop.place_order(world.shop_state)
    await poll_once(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred" and result.adopted
    assert len(world.documents(result.transfer_id)) == 1
    assert store.ledger.get(result.transfer_id).attempts >= 2


async def test_429_and_5xx_end_in_one_invoice(store: Store, world: HogiaWorld, client: Client, task_queue: str) -> None:
    world.erp_state.faults.add(FaultRule(kind="status", status=429, retry_after=0.2, times=3))
    world.erp_state.faults.add(FaultRule(kind="status", status=503, method="POST", path=INVOICES_PATH, times=1))
    order_id = prestashop.place_order(world.shop_state)
    await poll_once(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred"
    assert len(world.documents(result.transfer_id)) == 1
    assert world.erp_state.faults.fired == 4


async def test_unknown_sku_is_parked_while_the_next_order_flows(
    world: HogiaWorld, store: Store, client: Client, task_queue: str
) -> None:
    prestashop.add_product(world.shop_state, "NOT-IN-HOGIA", "Shop-only print", Decimal("100.00"))
    poisoned = prestashop.place_order(world.shop_state, lines=[("NOT-IN-HOGIA", 1)])
    after = prestashop.place_order(world.shop_state)
    await poll_once(client, world, task_queue, store)
    assert (await transfer_result(client, world, after)).state == "transferred"
    with pytest.raises(WorkflowFailureError):
        await transfer_result(client, world, poisoned)
    row = store.ledger.get(world.transfer_id(poisoned))
    assert row.state == "parked" and "NOT-IN-HOGIA" in (row.last_error or "")
    assert world.documents(world.transfer_id(poisoned)) == []


async def test_customer_is_reused_across_orders(
    store: Store, world: HogiaWorld, client: Client, task_queue: str
) -> None:
    hogia.add_contact(world.erp_state, "Anna", "Jensen", "Anna.Jensen@example.dk", number="77")
    first = prestashop.place_order(world.shop_state, customer_email="anna.jensen@example.dk")
    second = prestashop.place_order(world.shop_state, customer_email="anna.jensen@example.dk")
    third = prestashop.place_order(world.shop_state, customer_email="lars.nielsen@example.dk")
    await poll_once(client, world, task_queue, store)
    for order_id in (first, second, third):
        assert (await transfer_result(client, world, order_id)).state == "transferred"
    assert len(world.erp_state.contacts) == 2
    customers = {item["invoiceHeader"]["customerNumber"] for item in world.erp_state.invoices.values()}
    assert "77" in customers and len(customers) == 2
