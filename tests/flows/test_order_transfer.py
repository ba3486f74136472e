"""The order flow against real emulators over loopback HTTP and a real store (no engine)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from shopbridge.connection_file import apply_connection
from shopbridge.errors import ConfigError, TransientError
from shopbridge.flows.connection import open_order_flow
from shopbridge.flows.order_polling import poll_orders
from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.store import Store
from tests.conftest import SETTLE_SECONDS, World


def erp_document(world: World, reference: str) -> dict[str, Any]:
    (collection, number), = world.documents(reference)
    return economic.find_document(world.erp_state, collection, number)


def shop_order(world: World, order_id: int) -> dict[str, Any]:
    return world.shop_state.tables["orders"][order_id]


async def transfer_one(store: Store, order_id: int, status: str = "2") -> Any:
    name = store.connections.list()[0].name
    async with open_order_flow(store, name) as flow:
        tid = flow.admit("1", str(order_id), status)
        assert tid is not None
        return await flow.transfer(tid)


async def transfer_after_settling(store: Store, order_id: int) -> Any:
    """Attempts after a write whose outcome is unknown wait for the ERP to settle, then adopt."""
    for _ in range(20):
        try:
            return await transfer_one(store, order_id)
        except TransientError as error:
            assert "settle" in str(error)
            await asyncio.sleep(SETTLE_SECONDS)
    raise AssertionError(f"order {order_id} was not transferred")


@pytest.mark.usefixtures("connection")
async def test_paid_order_becomes_one_draft_invoice_with_totals_to_the_ore(world: World, store: Store) -> None:
    order_id = prestashop.place_order(
        world.shop_state, customer_email="anna.jensen@example.dk", lines=[("MUG-01", 2), ("TEE-M-BLA", 1)]
    )
    outcome = await transfer_one(store, order_id)
    assert outcome.state == "transferred"
    assert outcome.document.kind == "draft_invoice"
    document = erp_document(world, outcome.transfer_id)
    paid = shop_order(world, order_id)
    assert Decimal(str(document["grossAmount"])) == Decimal(paid["total_paid_tax_incl"]).quantize(Decimal("0.01"))
    vat = Decimal(paid["total_paid_tax_incl"]) - Decimal(paid["total_paid_tax_excl"])
    assert Decimal(str(document["vatAmount"])) == vat.quantize(Decimal("0.01"))
    assert document["references"]["other"] == world.transfer_id(order_id)
    skus = [line["product"]["productNumber"] for line in document["lines"]]
    assert skus[:2] == ["MUG-01", "TEE-M-BLA"] and "SHIPPING" in skus
    assert store.ledger.get(outcome.transfer_id).state == "transferred"


async def test_order_rules_can_ask_for_an_erp_order(world: World, store: Store) -> None:
    apply_connection(store, world.connection(document="order"))
    order_id = prestashop.place_order(world.shop_state, lines=[("CAP-01", 1)])
    outcome = await transfer_one(store, order_id)
    assert [collection for collection, _ in world.documents(outcome.transfer_id)] == ["orders/drafts"]


async def test_order_rules_can_book_the_invoice(world: World, store: Store) -> None:
    apply_connection(store, world.connection(book_invoices=True))
    order_id = prestashop.place_order(world.shop_state, lines=[("SOCK-3P", 3)])
    outcome = await transfer_one(store, order_id)
    assert outcome.document.kind == "booked_invoice"
    assert [collection for collection, _ in world.documents(outcome.transfer_id)] == ["invoices/booked"]


@pytest.mark.usefixtures("connection")
async def test_discounted_order_with_awkward_ore_still_matches_the_shop_total(world: World, store: Store) -> None:
    order_id = prestashop.place_order(
        world.shop_state, lines=[("CAP-01", 3), ("BAG-TOTE", 1)], discount_percent=Decimal("10")
    )
    outcome = await transfer_one(store, order_id)
    document = erp_document(world, outcome.transfer_id)
    paid = Decimal(shop_order(world, order_id)["total_paid_tax_incl"]).quantize(Decimal("0.01"))
    assert Decimal(str(document["grossAmount"])) == paid


@pytest.mark.usefixtures("connection")
async def test_order_outside_the_trigger_statuses_is_not_admitted(world: World, store: Store) -> None:
    order_id = prestashop.place_order(world.shop_state, status=10)
    async with open_order_flow(store, world.name) as flow:
        result = await poll_orders(flow)
    assert world.transfer_id(order_id) not in [row.transfer_id for row in result.pending]
    assert store.ledger.get(world.transfer_id(order_id)) is None


@pytest.mark.usefixtures("connection")
async def test_order_admitted_once_paid(world: World, store: Store) -> None:
    order_id = prestashop.place_order(world.shop_state, status=10)
    prestashop.set_order_state(world.shop_state, order_id, 2)
    async with open_order_flow(store, world.name) as flow:
        result = await poll_orders(flow)
    assert world.transfer_id(order_id) in [row.transfer_id for row in result.pending]


@pytest.mark.usefixtures("connection")
async def test_existing_erp_customer_is_reused_by_email(world: World, store: Store) -> None:
    number = economic.add_customer(world.erp_state, name="Lars Nielsen", email="lars.nielsen@example.dk")
    order_id = prestashop.place_order(world.shop_state, customer_email="lars.nielsen@example.dk")
    outcome = await transfer_one(store, order_id)
    assert erp_document(world, outcome.transfer_id)["customer"]["customerNumber"] == number
    assert len(world.erp_state.tables["customers"]) == 1


@pytest.mark.usefixtures("connection")
async def test_second_order_of_a_new_customer_reuses_the_created_customer(world: World, store: Store) -> None:
    first = prestashop.place_order(world.shop_state, customer_email="sofie.hansen@example.dk")
    second = prestashop.place_order(world.shop_state, customer_email="sofie.hansen@example.dk")
    one, two = await transfer_one(store, first), await transfer_one(store, second)
    customer_of = lambda o: erp_document(world, o.transfer_id)["customer"]["customerNumber"]  # noqa: E731
    assert customer_of(one) == customer_of(two)
    assert len(world.erp_state.tables["customers"]) == 1


@pytest.mark.usefixtures("connection")
async def test_replayed_transfer_writes_nothing_new(world: World, store: Store) -> None:
    order_id = prestashop.place_order(world.shop_state)
    first = await transfer_one(store, order_id)
    again = await transfer_one(store, order_id)
    assert again.state == "transferred" and again.document.number == first.document.number
    assert len(world.documents(first.transfer_id)) == 1


@pytest.mark.usefixtures("connection")
async def test_crash_between_erp_write_and_ledger_update_adopts_the_written_document(
    world: World, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = prestashop.place_order(world.shop_state)
    real_mark = store.ledger.mark_transferred

    def crash(*_: object, **__: object) -> None:
        raise RuntimeError("worker died before the ledger was updated")

    monkeypatch.setattr(store.ledger, "mark_transferred", crash)
    with pytest.raises(RuntimeError):
        await transfer_one(store, order_id)
    monkeypatch.setattr(store.ledger, "mark_transferred", real_mark)
    outcome = await transfer_after_settling(store, order_id)
    assert outcome.state == "transferred" and outcome.adopted
    assert len(world.documents(outcome.transfer_id)) == 1


@pytest.mark.usefixtures("connection")
async def test_connection_dropped_after_the_erp_committed_does_not_double_the_invoice(
    world: World, store: Store
) -> None:
    world.erp_state.faults.add(FaultRule(kind="drop_after_commit", method="POST", path="/invoices/drafts", times=1))
    order_id = prestashop.place_order(world.shop_state)
    with pytest.raises(TransientError):
        await transfer_one(store, order_id)
    outcome = await transfer_after_settling(store, order_id)
    assert outcome.adopted
    assert len(world.documents(outcome.transfer_id)) == 1
    timeline = [event.kind for event in reversed(store.events.list(transfer_id=outcome.transfer_id))]
    assert timeline[:3] == ["customer.created", "order.write_in_doubt", "order.attempt_failed"]
    # Attempts that came before the ERP settled waited without looking; the last one adopted.
    assert set(timeline[3:-1]) <= {"order.attempt_failed"} and timeline[-1] == "order.transferred"


@pytest.mark.usefixtures("connection")
async def test_two_transfers_of_one_order_at_once_write_one_document(world: World, store: Store) -> None:
    order_id = prestashop.place_order(world.shop_state)
    world.erp_state.faults.add(FaultRule(kind="latency", seconds=0.2))
    results = await asyncio.gather(transfer_one(store, order_id), transfer_one(store, order_id), return_exceptions=True)
    transferred = [r for r in results if not isinstance(r, BaseException) and r.state == "transferred"]
    assert len(transferred) >= 1
    assert all(isinstance(r, TransientError) for r in results if isinstance(r, BaseException))
    assert len(world.documents(world.transfer_id(order_id))) == 1


@pytest.mark.usefixtures("connection")
async def test_unknown_sku_parks_that_order_and_the_next_one_flows(world: World, store: Store) -> None:
    prestashop.add_product(world.shop_state, "NOT-IN-ERP", "Shop-only print", Decimal("100.00"))
    poisoned = prestashop.place_order(world.shop_state, lines=[("NOT-IN-ERP", 1), ("MUG-01", 1)])
    healthy = prestashop.place_order(world.shop_state, lines=[("MUG-01", 1)])
    parked = await transfer_one(store, poisoned)
    assert parked.state == "parked" and "NOT-IN-ERP" in parked.reason
    assert store.ledger.get(parked.transfer_id).last_error == parked.reason
    assert (await transfer_one(store, healthy)).state == "transferred"
    assert world.documents(parked.transfer_id) == []


@pytest.mark.usefixtures("connection")
async def test_order_cancelled_before_transfer_is_parked_not_booked(world: World, store: Store) -> None:
    order_id = prestashop.place_order(world.shop_state)
    async with open_order_flow(store, world.name) as flow:
        tid = flow.admit("1", str(order_id), "2")
        prestashop.set_order_state(world.shop_state, order_id, 6)
        outcome = await flow.transfer(tid)
    assert outcome.state == "parked" and "cancelled" in outcome.reason


async def test_bad_erp_credentials_stop_the_connection_until_it_is_fixed(world: World, store: Store) -> None:
    broken = world.connection()
    broken["erp"]["agreement_grant_token"] = "revoked-grant"
    apply_connection(store, broken)
    order_id = prestashop.place_order(world.shop_state)
    with pytest.raises(ConfigError):
        await transfer_one(store, order_id)
    row = store.ledger.get(world.transfer_id(order_id))
    assert row.state == "pending" and row.error_kind == "config"
    assert store.connections.get(world.name).status == "config_error"
    with pytest.raises(ConfigError, match="stopped"):
        await transfer_one(store, order_id)
    apply_connection(store, world.connection())
    assert (await transfer_one(store, order_id)).state == "transferred"


@pytest.mark.usefixtures("connection")
@pytest.mark.parametrize(
    ("table", "field", "value", "reason"),
    [
        ("customers", "email", "<script>alert(1)</script>", "email"),
        ("orders", "total_paid_tax_incl", "99999999999.000000", "out of range"),
        ("orders", "id_currency", "", "currencies"),
    ],
)
async def test_malformed_shop_order_is_parked_with_a_readable_reason_and_the_next_flows(
    world: World, store: Store, table: str, field: str, value: str, reason: str
) -> None:
    broken = prestashop.place_order(world.shop_state, customer_email="ola.nordmann@example.no")
    healthy = prestashop.place_order(world.shop_state, customer_email="anna.jensen@example.dk")
    order_row = world.shop_state.tables["orders"][broken]
    row = order_row if table == "orders" else world.shop_state.tables[table][int(order_row["id_customer"])]
    row[field] = value
    parked = await transfer_one(store, broken)
    assert parked.state == "parked" and reason in parked.reason
    assert (await transfer_one(store, healthy)).state == "transferred"
    assert world.documents(parked.transfer_id) == []
