"""Starweb orders into e-conomic end to end: both emulators over loopback HTTP, the real store and
the real Temporal dev server with a worker on a fresh task queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.contracts import TransferOutput
from shopbridge.engine.poller import TransferStarter, poll_now
from shopbridge.engine.worker import build_worker
from shopbridge.errors import TransientError
from shopbridge.flows.order_polling import PollResult
from shopbridge.sandbox import economic, starweb
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.server import BackgroundServer, serving
from shopbridge.sandbox.starweb.render import order_totals
from shopbridge.store import Store
from shopbridge.web.app import create_app
from tests.conftest import SETTLE_SECONDS

RETRY_SECONDS = 0.01  # first back-off interval; the ceiling is 300 times it
TRIGGERS = [str(starweb.STATUS_CREATED), str(starweb.STATUS_PICKING), str(starweb.STATUS_COMPLETED)]


@dataclass
class StarwebWorld:
    """A Starweb emulator and an e-conomic emulator serving over loopback HTTP."""

    shop_state: starweb.StarwebState
    erp_state: economic.EconomicState
    shop: BackgroundServer
    erp: BackgroundServer
    name: str = field(default_factory=lambda: f"starweb-{uuid.uuid4().hex[:8]}")

    def connection(self, **orders: Any) -> dict[str, Any]:
        rules: dict[str, Any] = {"trigger_statuses": TRIGGERS, "document": "invoice",
                                 "settle_seconds": SETTLE_SECONDS, **orders}
        return {
            "name": self.name,
            "shop": {"system": "starweb", "url": self.shop.url, "client_id": self.shop_state.client_id,
                     "client_secret": self.shop_state.client_secret, "timeout_seconds": 5,
                     "state_map": {str(starweb.STATUS_AWAITING_PAYMENT): "pending_payment"}},
            "erp": {"system": "economic", "url": self.erp.url, "app_secret_token": self.erp_state.app_secret_token,
                    "agreement_grant_token": self.erp_state.agreement_grant_token, "timeout_seconds": 5},
            "orders": rules,
        }  # fmt: skip

    def transfer_id(self, order_id: int) -> str:
        return f"{self.name}/{self.shop_state.shop_code}/{order_id}"

    def documents(self, order_id: int) -> list[tuple[str, int]]:
        return economic.documents_by_reference(self.erp_state).get(self.transfer_id(order_id), [])


@pytest.fixture
def world(store: Store) -> Iterator[StarwebWorld]:
    shop_state, erp_state = starweb.seeded_state(seed=7), economic.seeded_state(seed=7)
    with serving(starweb.create_app(shop_state)) as shop, serving(economic.create_app(erp_state)) as erp:
        built = StarwebWorld(shop_state, erp_state, shop, erp)
        apply_connection(store, built.connection())
        yield built


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    async with build_worker(temporal_env.client, store, task_queue):
        yield temporal_env.client


async def poll_once(client: Client, world: StarwebWorld, task_queue: str, store: Store) -> PollResult:
    return await poll_now(store, world.name, TransferStarter(client, task_queue, RETRY_SECONDS))


async def transfer_result(client: Client, world: StarwebWorld, order_id: int) -> TransferOutput:
    handle = client.get_workflow_handle(world.transfer_id(order_id), result_type=TransferOutput)
    return await handle.result()


def gross_of(world: StarwebWorld, order_id: int) -> Decimal:
    (collection, number), = world.documents(order_id)
    return Decimal(str(economic.get_document(world.erp_state, collection, number)["grossAmount"]))


def to_pay_in_shop(world: StarwebWorld, order_id: int) -> Decimal:
    net, vat = order_totals(world.shop_state.orders[order_id])
    return net + vat


async def test_happy_path_invoice_matches_the_shops_total(
    store: Store, world: StarwebWorld, client: Client, task_queue: str
) -> None:
    order_id = starweb.place_order(world.shop_state, lines=[("MUG-01", 1), ("TEE-L-WHI", 2)])
    await poll_once(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred" and result.document_kind == "draft_invoice"
    assert gross_of(world, order_id) == to_pay_in_shop(world, order_id)


async def test_crash_after_the_erp_write_creates_no_duplicate(
    world: StarwebWorld, store: Store, client: Client, task_queue: str
) -> None:
    world.erp_state.faults.add(FaultRule(kind="drop_after_commit", method="POST", path="/invoices/drafts", times=1))
    order_id = starweb.place_order(world.shop_state)
    await poll_once(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred" and result.adopted
    assert len(world.documents(order_id)) == 1
    assert store.ledger.get(result.transfer_id).attempts >= 2


async def test_shop_side_faults_end_in_one_transfer(
    store: Store, world: StarwebWorld, client: Client, task_queue: str
) -> None:
    world.shop_state.faults.add(FaultRule(kind="status", status=503, path="/api/v2/orders/", times=1))
    world.shop_state.faults.add(FaultRule(kind="status", status=429, retry_after=0.2, path="/api/v2/orders", times=1))
    world.shop_state.faults.add(FaultRule(kind="drop_after_commit", method="GET", path="/api/v2/orders/", times=1))
    order_id = starweb.place_order(world.shop_state)
    await poll_or_retry(client, world, task_queue, store)
    result = await transfer_result(client, world, order_id)
    assert result.state == "transferred" and len(world.documents(order_id)) == 1
    assert world.shop_state.faults.fired == 3


async def poll_or_retry(client: Client, world: StarwebWorld, task_queue: str, store: Store) -> PollResult:
    """A poll round may end on a transient shop fault; the next round goes on (LESSONS: bounded rounds)."""
    for _ in range(3):
        try:
            return await poll_once(client, world, task_queue, store)
        except TransientError:
            continue
    return await poll_once(client, world, task_queue, store)


async def test_an_order_whose_status_changes_between_polls_is_held_then_transferred(
    store: Store, world: StarwebWorld, client: Client, task_queue: str
) -> None:
    order_id = starweb.place_order(world.shop_state, status=starweb.STATUS_AWAITING_PAYMENT)
    polled = await poll_once(client, world, task_queue, store)
    assert str(order_id) not in [ref.order_id for ref in polled.pending]
    assert world.documents(order_id) == []
    starweb.set_order_status(world.shop_state, order_id, starweb.STATUS_PICKING)
    await poll_once(client, world, task_queue, store)
    assert (await transfer_result(client, world, order_id)).state == "transferred"
    starweb.set_order_status(world.shop_state, order_id, starweb.STATUS_COMPLETED)
    await poll_once(client, world, task_queue, store)
    assert len(world.documents(order_id)) == 1


async def test_a_hostile_order_is_parked_while_the_next_flows(
    world: StarwebWorld, store: Store, client: Client, task_queue: str
) -> None:
    hostile = starweb.place_order(world.shop_state)
    world.shop_state.orders[hostile]["items"][0]["quantity"] = -3  # Starweb allows ±1000000 (OrderItemModel)
    world.shop_state.orders[hostile]["items"][0]["description"] = "<script>alert(1)</script>"
    timeless = starweb.place_order(world.shop_state)
    world.shop_state.orders[timeless]["wireOverrides"] = {"modifiedAt": "0000-00-00 00:00:00"}
    after = starweb.place_order(world.shop_state)
    await poll_once(client, world, task_queue, store)
    assert (await transfer_result(client, world, after)).state == "transferred"
    for order_id, reason in ((hostile, "quantity"), (timeless, "modifiedAt")):
        with pytest.raises(WorkflowFailureError):
            await transfer_result(client, world, order_id)
        row = store.ledger.get(world.transfer_id(order_id))
        assert row is not None and row.state == "parked" and reason in (row.last_error or "")
        assert world.documents(order_id) == []


async def test_webhook_and_poll_racing_for_one_order_write_one_document(
    world: StarwebWorld, store: Store, client: Client, task_queue: str
) -> None:
    order_id = starweb.place_order(world.shop_state)
    secret = store.connections.get(world.name).secrets["webhook_secret"]
    # Starweb cannot sign its webhooks: the secret travels in the path.
    event = {"shopIdCode": world.shop_state.shop_code, "orderId": order_id, "event": "order.created"}
    web = create_app(store, client, task_queue)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://shopbridge") as http:
        webhook = http.post(f"/webhooks/{world.name}/{secret}/orders", json=event)
        response, _ = await asyncio.gather(webhook, poll_once(client, world, task_queue, store))
    assert response.status_code == 202
    result = await transfer_result(client, world, order_id)
    await poll_once(client, world, task_queue, store)
    assert result.state == "transferred" and len(world.documents(order_id)) == 1
