"""One ERP document per shop order when writes commit late, leases lapse and buyers are new
to several workers at once; each test reproduces a failure measured from outside."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from cryptography.fernet import Fernet

from shopbridge.connection_file import apply_connection
from shopbridge.errors import TransientError
from shopbridge.flows import order_transfer
from shopbridge.flows.connection import open_order_flow
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.store import SecretBox, Store
from tests.conftest import World
from tests.databases import private_postgres_schema

CLIENT_TIMEOUT = 0.5
LATE_BY = 0.3  # the ERP commits this long after the client gave up
VISIBLE_AFTER = 0.3  # and lists the new document this long after it committed
SETTLE = CLIENT_TIMEOUT + LATE_BY + VISIBLE_AFTER + 0.4


def slow_erp_connection(world: World, **rules: Any) -> dict[str, Any]:
    connection = world.connection(settle_seconds=SETTLE, **rules)
    connection["erp"]["timeout_seconds"] = CLIENT_TIMEOUT
    return connection


async def attempt(store: Store, world: World, order_id: int) -> Any:
    async with open_order_flow(store, world.name) as flow:
        tid = flow.admit("1", str(order_id), "2")
        assert tid is not None
        return await flow.transfer(tid)


def in_progress(store: Store, tid: str) -> bool:
    row = store.ledger.get(tid)
    return row is not None and row.state == "in_progress"


async def until_transferred(store: Store, world: World, order_id: int, attempts: int = 20) -> Any:
    """Retry the way the engine would: again after each transient failure's Retry-After."""
    for _ in range(attempts):
        try:
            return await attempt(store, world, order_id)
        except TransientError as error:
            await asyncio.sleep(min(error.retry_after or 0.2, SETTLE))
    raise AssertionError(f"order {order_id} was not transferred in {attempts} attempts")


async def test_a_draft_that_commits_after_the_client_gave_up_is_adopted_not_written_twice(
    world: World, store: Store
) -> None:
    apply_connection(store, slow_erp_connection(world))
    world.erp_state.faults.add(FaultRule(kind="late_commit", method="POST", path="/invoices/drafts", times=1,
                                         seconds=CLIENT_TIMEOUT + LATE_BY))  # fmt: skip
    world.erp_state.faults.add(FaultRule(kind="delayed_visibility", path="/invoices/drafts", seconds=VISIBLE_AFTER))
    order_id = prestashop.place_order(world.shop_state)
    with pytest.raises(TransientError, match="may or may not"):
        await attempt(store, world, order_id)
    # The retry comes at once, as Temporal's would: it must neither look nor write yet.
    with pytest.raises(TransientError, match="settle"):
        await attempt(store, world, order_id)
    outcome = await until_transferred(store, world, order_id)
    assert outcome.adopted and outcome.check_after_seconds > 0
    assert len(world.documents(world.transfer_id(order_id))) == 1


async def test_a_stray_draft_from_a_lost_answer_is_removed_after_the_transfer(world: World, store: Store) -> None:
    apply_connection(store, slow_erp_connection(world, book_invoices=True))
    order_id = prestashop.place_order(world.shop_state)
    await until_transferred(store, world, order_id)
    tid = world.transfer_id(order_id)
    # A write that committed later still than the ERP was thought to settle: a second draft.
    async with open_order_flow(store, world.name) as flow:
        row = store.ledger.get(tid)
        order = await flow.source.get_order(str(order_id))
        assert row is not None and row.document_kind == "booked_invoice"
        customer_id = str(world.erp_state.tables["invoices/booked"][int(row.document_number or 0)]["customer"]
                          ["customerNumber"])  # fmt: skip
        await flow.sink.create_document(order, customer_id, flow.rules.document, tid)
        assert len(world.documents(tid)) == 2
        assert await flow.check_strays(tid) == []
    assert [collection for collection, _ in world.documents(tid)] == ["invoices/booked"]
    assert "order.stray_removed" in {event.kind for event in store.events.list(transfer_id=tid)}


async def test_a_stray_that_cannot_be_removed_is_shown_to_the_operator(world: World, store: Store) -> None:
    apply_connection(store, slow_erp_connection(world, book_invoices=True))
    first, second = prestashop.place_order(world.shop_state), prestashop.place_order(world.shop_state)
    await until_transferred(store, world, first)
    await until_transferred(store, world, second)
    tid = world.transfer_id(first)
    # Make the second order's booked invoice carry the first one's reference: a booked stray.
    (_, number), = world.documents(world.transfer_id(second))
    world.erp_state.tables["invoices/booked"][number]["references"]["other"] = tid
    async with open_order_flow(store, world.name) as flow:
        remaining = await flow.check_strays(tid)
    assert [(document.kind, document.number) for document in remaining] == [("booked_invoice", str(number))]
    row = store.ledger.get(tid)
    assert row is not None and row.stray_documents == f"booked_invoice {number}"


async def test_a_slow_write_keeps_its_lease_so_a_second_attempt_writes_nothing(world: World, store: Store) -> None:
    apply_connection(store, world.connection(lease_seconds=0.3))
    world.erp_state.faults.add(FaultRule(kind="latency", method="POST", path="/invoices/drafts", seconds=1.0))
    order_id = prestashop.place_order(world.shop_state)
    first = asyncio.create_task(attempt(store, world, order_id))
    while not first.done() and not in_progress(store, world.transfer_id(order_id)):
        await asyncio.sleep(0.02)  # until the first attempt holds the row (slow to start on a busy machine)
    await asyncio.sleep(0.6)  # twice the lease: without renewal the row would be free now
    with pytest.raises(TransientError, match="another worker"):
        await attempt(store, world, order_id)
    assert (await first).state == "transferred"
    assert len(world.documents(world.transfer_id(order_id))) == 1


async def test_an_attempt_whose_lease_lapsed_mid_write_is_fenced_and_its_document_adopted(
    world: World, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ERP settles after the slow write commits (2 s), as settle_seconds promises; a shorter
    # one let a loaded machine's second attempt look before the commit and write again.
    apply_connection(store, world.connection(settle_seconds=4.0, lease_seconds=0.3))
    world.erp_state.faults.add(FaultRule(kind="latency", method="POST", path="/invoices/drafts", seconds=2.0,
                                         times=1))  # fmt: skip

    @asynccontextmanager
    async def stalled(*_: object) -> AsyncIterator[None]:
        yield  # a worker whose event loop stalled: the lease is not renewed

    monkeypatch.setattr(order_transfer, "renewing", stalled)
    order_id = prestashop.place_order(world.shop_state)
    slow = asyncio.create_task(attempt(store, world, order_id))
    while (row := store.ledger.get(world.transfer_id(order_id))) is None or row.write_started_at is None:
        await asyncio.sleep(0.02)  # until the first attempt has announced its write and sent it
    # Temporal's second attempt, as soon as the lease lapsed while the POST is under way: it
    # takes the row, but must neither look nor write before the first write has settled.
    refusal = ""
    while not slow.done() and "settle" not in refusal:
        await asyncio.sleep(0.1)
        try:
            await attempt(store, world, order_id)
        except TransientError as error:
            refusal = str(error)
    assert "settle" in refusal
    with pytest.raises(TransientError, match="lost its claim"):
        await slow  # the document was written, but this attempt may not record it
    outcome = await until_transferred(store, world, order_id)
    assert outcome.adopted
    assert len(world.documents(world.transfer_id(order_id))) == 1


async def test_an_order_cancelled_after_its_document_was_written_is_transferred_not_parked(
    world: World, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_connection(store, slow_erp_connection(world))
    order_id = prestashop.place_order(world.shop_state)

    def crash(*_: object, **__: object) -> None:
        raise RuntimeError("worker died before the ledger was updated")

    with monkeypatch.context() as patched:
        patched.setattr(store.ledger, "mark_transferred", crash)
        with pytest.raises(RuntimeError):
            await attempt(store, world, order_id)
    prestashop.set_order_state(world.shop_state, order_id, 6)  # then the shop cancelled it
    outcome = await until_transferred(store, world, order_id)
    assert (outcome.state, outcome.adopted) == ("transferred", True)
    assert len(world.documents(world.transfer_id(order_id))) == 1


async def test_a_merchant_without_access_to_erp_orders_still_gets_invoices(world: World, store: Store) -> None:
    apply_connection(store, world.connection())
    # An app role without orders: e-conomic answers 403 on every `orders/*` path.
    world.erp_state.faults.add(FaultRule(kind="status", status=403, path="/orders"))
    order_id = prestashop.place_order(world.shop_state)
    assert (await attempt(store, world, order_id)).state == "transferred"
    assert store.connections.get(world.name).status == "ok"


async def test_a_bound_customer_deleted_in_the_erp_is_bound_again(world: World, store: Store) -> None:
    apply_connection(store, world.connection())
    email = "ola.nordmann@example.no"
    first = prestashop.place_order(world.shop_state, customer_email=email)
    await attempt(store, world, first)
    old = store.bindings.by_canonical_key(store.connections.get(world.name).id, "economic", "customer", email)
    assert old is not None
    del world.erp_state.tables["customers"][int(old.external_id)]  # the bookkeeper deleted it
    second = prestashop.place_order(world.shop_state, customer_email=email)
    outcome = await attempt(store, world, second)
    assert outcome.state == "transferred"
    new = store.bindings.by_canonical_key(store.connections.get(world.name).id, "economic", "customer", email)
    assert new is not None and new.external_id != old.external_id
    assert int(new.external_id) in world.erp_state.tables["customers"]
    assert "customer.rebound" in {event.kind for event in store.events.list(transfer_id=outcome.transfer_id)}


async def test_a_second_order_of_a_new_buyer_waits_for_the_customer_being_created(
    world: World, store: Store
) -> None:
    # It used to fail its attempt and come back after the lease (30 s): a burst of one new buyer's
    # orders stood still for half a minute behind one customer create.
    apply_connection(store, world.connection())
    world.erp_state.faults.add(FaultRule(kind="latency", method="POST", path="/customers", seconds=0.5))
    email = "erik.svensson@example.se"  # a buyer of the shop the ERP does not know yet
    orders = [prestashop.place_order(world.shop_state, customer_email=email) for _ in range(3)]
    outcomes = await asyncio.gather(*(attempt(store, world, order_id) for order_id in orders))
    assert [outcome.state for outcome in outcomes] == ["transferred"] * 3
    created = [row for row in world.erp_state.tables["customers"].values() if row.get("email") == email]
    assert len(created) == 1


def _transfer_in_a_process(database_url: str, key: bytes, connection: str, order_id: int) -> str:
    """One worker process: its own store, connectors and event loop."""

    async def run() -> str:
        with Store(database_url, SecretBox(key)) as store:
            async with open_order_flow(store, connection) as flow:
                tid = flow.admit("1", str(order_id), "2")
                assert tid is not None
                for _ in range(40):
                    try:
                        return (await flow.transfer(tid)).state
                    except TransientError as error:
                        await asyncio.sleep(min(error.retry_after or 0.2, 1.0))
                return "not transferred"

    return asyncio.run(run())


@pytest.mark.postgres
def test_two_worker_processes_create_one_customer_for_a_new_buyer(world: World) -> None:
    key = Fernet.generate_key()
    world.erp_state.faults.add(FaultRule(kind="latency", method="POST", path="/customers", seconds=0.5))
    email = "erik.svensson@example.se"
    orders = [prestashop.place_order(world.shop_state, customer_email=email) for _ in range(2)]
    with private_postgres_schema() as url:
        with Store(url, SecretBox(key)) as store:
            store.migrate()
            apply_connection(store, world.connection())
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(2) as pool:
            states = pool.starmap(_transfer_in_a_process, [(url, key, world.name, order_id) for order_id in orders])
    assert states == ["transferred", "transferred"]
    created = [row for row in world.erp_state.tables["customers"].values() if row.get("email") == email]
    assert len(created) == 1
