"""Admission from webhooks and polls: configuration errors stop the connection, unknown ids leave
no ledger row, and values no store can hold park the order instead of failing forever."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopbridge.connection_file import apply_connection
from shopbridge.errors import ConfigError
from shopbridge.flows.connection import open_order_flow
from shopbridge.flows.order_polling import poll_orders
from shopbridge.sandbox import economic, prestashop
from shopbridge.store import Store
from tests.conftest import World


def revoke_shop_key(world: World, store: Store) -> None:
    broken = world.connection()
    broken["shop"]["key"] = "REVOKEDKEYREVOKEDKEYREVOKEDKEY12"
    apply_connection(store, broken)


@pytest.mark.usefixtures("connection")
async def test_a_revoked_shop_key_on_a_poll_marks_the_connection(world: World, store: Store) -> None:
    revoke_shop_key(world, store)
    with pytest.raises(ConfigError):
        async with open_order_flow(store, world.name) as flow:
            await poll_orders(flow)
    assert store.connections.get(world.name).status == "config_error"


@pytest.mark.usefixtures("connection")
async def test_a_revoked_shop_key_on_admission_marks_the_connection(world: World, store: Store) -> None:
    order_id = prestashop.place_order(world.shop_state)
    revoke_shop_key(world, store)
    with pytest.raises(ConfigError):
        async with open_order_flow(store, world.name) as flow:
            await flow.transfer_order("1", str(order_id))
    assert store.connections.get(world.name).status == "config_error"


@pytest.mark.usefixtures("connection")
async def test_an_order_id_the_shop_does_not_have_leaves_no_ledger_row(world: World, store: Store) -> None:
    async with open_order_flow(store, world.name) as flow:
        for order_id in ("990001", "990002", "990003"):
            assert (await flow.transfer_order("1", order_id)).state == "not_triggered"
    assert sum(store.ledger.count_by_state().values()) == 0


@pytest.mark.usefixtures("connection")
async def test_a_control_character_in_an_email_parks_the_order(world: World, store: Store) -> None:
    order_id = prestashop.place_order(world.shop_state, customer_email="ola.nordmann@example.no")
    order_row = world.shop_state.tables["orders"][order_id]
    world.shop_state.tables["customers"][int(order_row["id_customer"])]["email"] = "ola\x00@example.no"
    async with open_order_flow(store, world.name) as flow:
        tid = flow.admit("1", str(order_id), "2")
        assert tid is not None
        outcome = await flow.transfer(tid)
    assert outcome.state == "parked" and "control characters" in outcome.reason
    assert world.documents(tid) == []


async def test_a_discounted_order_mixing_vat_rates_is_transferred_with_the_shops_total(
    world: World, store: Store
) -> None:
    connection = world.connection()
    connection["erp"]["discount_products_by_vat"] = {"0": "DISCOUNT0"}
    apply_connection(store, connection)
    order_id = prestashop.place_order(world.shop_state, lines=[("MUG-01", 2), ("GIFTCARD", 1)], discount_percent="10")
    async with open_order_flow(store, world.name) as flow:
        tid = flow.admit("1", str(order_id), "2")
        assert tid is not None
        outcome = await flow.transfer(tid)
    assert outcome.state == "transferred", outcome.reason
    (collection, number), = world.documents(tid)
    document = economic.get_document(world.erp_state, collection, number)
    paid = Decimal(world.shop_state.tables["orders"][order_id]["total_paid_tax_incl"]).quantize(Decimal("0.01"))
    assert Decimal(str(document["grossAmount"])) == paid
    discount_products = [line["product"]["productNumber"] for line in document["lines"] if "DISCOUNT" in
                         line["product"]["productNumber"]]  # fmt: skip
    assert sorted(discount_products) == ["DISCOUNT", "DISCOUNT0"]
