"""Norce orders into e-conomic end to end: both emulators over loopback HTTP, the real store and
the real Temporal dev server with a worker on a fresh task queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.connectors.norce import NorceConnector, NorceSettings
from shopbridge.connectors.norce.translate import OrderHint
from shopbridge.engine.contracts import OrderRef, TransferOutput
from shopbridge.engine.control import start_transfer
from shopbridge.engine.poller import TransferStarter, poll_now
from shopbridge.engine.worker import build_worker
from shopbridge.flows.order_polling import PollResult
from shopbridge.sandbox import economic, norce
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.server import BackgroundServer, serving
from shopbridge.store import Store
from tests.conftest import SETTLE_SECONDS
from tests.connectors.norce.emulated import DK, ORDERS_PATH, SE, channels

RETRY_SECONDS = 0.01


@dataclass
class NorceWorld:
    shop_state: norce.NorceState
    erp_state: economic.EconomicState
    shop: BackgroundServer
    erp: BackgroundServer
    name: str = field(default_factory=lambda: f"norce-{uuid.uuid4().hex[:8]}")

    def connection(self, **orders: Any) -> dict[str, Any]:
        rules: dict[str, Any] = {"trigger_statuses": ["2", "4", "5"], "document": "invoice",
                                 "settle_seconds": SETTLE_SECONDS, **orders}
        shop = {"system": "norce", "url": self.shop.url, "client_id": self.shop_state.client_id,
                "client_secret": self.shop_state.client_secret, "environment": self.shop_state.environment,
                "channels": channels(self.shop_state), "timeout_seconds": 5}  # fmt: skip
        erp = {"system": "economic", "url": self.erp.url, "app_secret_token": self.erp_state.app_secret_token,
               "agreement_grant_token": self.erp_state.agreement_grant_token, "timeout_seconds": 5}  # fmt: skip
        return {"name": self.name, "shop": shop, "erp": erp, "orders": rules}

    def transfer_id(self, channel: int, order_no: str) -> str:
        return f"{self.name}/{channel}/{order_no}"

    def documents(self, reference: str) -> list[tuple[str, int]]:
        return economic.documents_by_reference(self.erp_state).get(reference, [])

    def gross(self, reference: str) -> Decimal:
        ((collection, number),) = self.documents(reference)
        return Decimal(str(economic.get_document(self.erp_state, collection, number)["grossAmount"]))

    def paid(self, order_no: str) -> Decimal:
        order = self.shop_state.order_by_no(order_no)
        assert order is not None
        return norce.order_gross(order)


@pytest.fixture
def world() -> Iterator[NorceWorld]:
    shop_state, erp_state = norce.seeded_state(seed=7), economic.seeded_state(seed=7)
    with serving(norce.create_app(shop_state)) as shop, serving(economic.create_app(erp_state)) as erp:
        yield NorceWorld(shop_state, erp_state, shop, erp)


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    async with build_worker(temporal_env.client, store, task_queue):
        yield temporal_env.client


@pytest.fixture
def connected(world: NorceWorld, store: Store) -> NorceWorld:
    apply_connection(store, world.connection())
    return world


async def poll_once(client: Client, world: NorceWorld, task_queue: str, store: Store) -> PollResult:
    return await poll_now(store, world.name, TransferStarter(client, task_queue, RETRY_SECONDS))


async def transfer_result(client: Client, world: NorceWorld, channel: int, order_no: str) -> TransferOutput:
    handle = client.get_workflow_handle(world.transfer_id(channel, order_no), result_type=TransferOutput)
    return await handle.result()


async def test_happy_path_invoice_matches_what_the_buyer_paid(
    store: Store, connected: NorceWorld, client: Client, task_queue: str
) -> None:
    order_no = norce.place_order(connected.shop_state, DK, lines=[("MUG-01", 1), ("TEE-L-WHI", 2)])
    await poll_once(client, connected, task_queue, store)
    result = await transfer_result(client, connected, DK, order_no)
    assert result.state == "transferred" and result.document_kind == "draft_invoice"
    assert connected.gross(result.transfer_id) == connected.paid(order_no)


async def test_one_order_per_channel_lands_under_its_own_shop(
    store: Store, connected: NorceWorld, client: Client, task_queue: str
) -> None:
    danish = norce.place_order(connected.shop_state, DK, lines=[("CAP-01", 1)])
    swedish = norce.place_order(connected.shop_state, SE, lines=[("CAP-01", 1)])
    polled = await poll_once(client, connected, task_queue, store)
    assert {(ref.shop, ref.order_id) for ref in polled.pending} >= {(str(DK), danish), (str(SE), swedish)}
    for channel, order_no, currency in ((DK, danish, "DKK"), (SE, swedish, "SEK")):
        result = await transfer_result(client, connected, channel, order_no)
        ((collection, number),) = connected.documents(result.transfer_id)
        assert economic.get_document(connected.erp_state, collection, number)["currency"] == currency
        assert connected.gross(result.transfer_id) == connected.paid(order_no)


async def test_crash_after_the_erp_write_creates_no_duplicate(
    connected: NorceWorld, store: Store, client: Client, task_queue: str
) -> None:
    connected.erp_state.faults.add(FaultRule(kind="drop_after_commit", method="POST", path="/invoices/drafts", times=1))
    order_no = norce.place_order(connected.shop_state, DK)
    await poll_once(client, connected, task_queue, store)
    result = await transfer_result(client, connected, DK, order_no)
    assert result.state == "transferred" and result.adopted
    assert len(connected.documents(result.transfer_id)) == 1
    assert store.ledger.get(result.transfer_id).attempts >= 2


async def test_shop_side_faults_end_in_one_transfer(
    store: Store, connected: NorceWorld, client: Client, task_queue: str
) -> None:
    faults = connected.shop_state.faults
    faults.add(FaultRule(kind="status", status=429, retry_after=0.2, method="GET", path=ORDERS_PATH, times=2))
    faults.add(FaultRule(kind="status", status=503, method="POST", path="/identity/", times=1))
    order_no = norce.place_order(connected.shop_state, SE)
    await poll_once(client, connected, task_queue, store)
    result = await transfer_result(client, connected, SE, order_no)
    assert result.state == "transferred"
    assert len(connected.documents(result.transfer_id)) == 1
    assert faults.fired == 3


async def test_order_is_transferred_once_its_status_changes_between_polls(
    world: NorceWorld, store: Store, client: Client, task_queue: str
) -> None:
    apply_connection(store, world.connection(trigger_statuses=["2"]))
    waiting = norce.place_order(world.shop_state, DK, status=norce.Status.CREATED)
    passed_through = norce.place_order(world.shop_state, DK, status=norce.Status.CREATED)
    assert (await poll_once(client, world, task_queue, store)).pending == []
    norce.set_order_status(world.shop_state, waiting, norce.Status.CONFIRMED)
    # Confirmed and delivered between two polls: delivery implies the order was confirmed.
    norce.set_order_status(world.shop_state, passed_through, norce.Status.DELIVERED)
    await poll_once(client, world, task_queue, store)
    for order_no in (waiting, passed_through):
        assert (await transfer_result(client, world, DK, order_no)).state == "transferred"


async def test_hostile_order_is_parked_while_the_next_flows(
    connected: NorceWorld, store: Store, client: Client, task_queue: str
) -> None:
    hostile = norce.place_order(connected.shop_state, DK)
    order = connected.shop_state.order_by_no(hostile)
    assert order is not None
    order.extra["Buyer"] = {"EmailAddress": "not-an-email\u0000<script>", "FirstName": "x" * 10_000}
    after = norce.place_order(connected.shop_state, DK)
    await poll_once(client, connected, task_queue, store)
    assert (await transfer_result(client, connected, DK, after)).state == "transferred"
    with pytest.raises(WorkflowFailureError):
        await transfer_result(client, connected, DK, hostile)
    row = store.ledger.get(connected.transfer_id(DK, hostile))
    assert row.state == "parked" and "order " + hostile in (row.last_error or "")
    assert connected.documents(connected.transfer_id(DK, hostile)) == []


async def test_push_and_poll_racing_for_one_order_write_one_document(
    store: Store, connected: NorceWorld, client: Client, task_queue: str
) -> None:
    hints: list[OrderHint] = []
    source = NorceConnector(NorceSettings.model_validate(connected.connection()["shop"]))

    async def receive(request: Request) -> JSONResponse:
        hints.append(source.order_hint(await request.json()))
        return JSONResponse({"StatusCode": "OK", "Description": "queued", "HasErpOrderNo": False})

    with serving(Starlette(routes=[Route("/orders", receive, methods=["POST"])])) as receiver:
        connected.shop_state.push = norce.PushConfig(url=receiver.url + "/orders", retry_delays=())
        order_no = norce.place_order(connected.shop_state, SE)
        assert await norce.push_order(connected.shop_state, order_no)
    (hint,) = hints
    pushed = start_transfer(client, OrderRef(connected.name, hint.shop, hint.order_id), task_queue, RETRY_SECONDS)
    await asyncio.gather(pushed, poll_once(client, connected, task_queue, store))
    result = await transfer_result(client, connected, SE, order_no)
    await poll_once(client, connected, task_queue, store)
    assert result.state == "transferred"
    assert len(connected.documents(result.transfer_id)) == 1
    await source.aclose()


async def test_order_reaching_the_query_api_late_is_caught_by_the_overlap(
    store: Store, connected: NorceWorld, client: Client, task_queue: str
) -> None:
    late = norce.place_order(connected.shop_state, DK)
    norce.arrive_late(connected.shop_state, late, timedelta(hours=1))
    on_time = norce.place_order(connected.shop_state, DK)
    first = await poll_once(client, connected, task_queue, store)
    assert [ref.order_id for ref in first.pending] == [on_time]
    await transfer_result(client, connected, DK, on_time)
    norce.arrive_late(connected.shop_state, late, timedelta(0))
    await poll_once(client, connected, task_queue, store)
    assert (await transfer_result(client, connected, DK, late)).state == "transferred"
