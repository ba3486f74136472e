"""Remote calls per purpose for a fixed scenario equal the minimum the orders need.

Three paid orders, the third from the first one's buyer, transferred as draft invoices over one
connector pair: a regression that adds a call anywhere fails here, without timing anything.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from shopbridge.connection_file import apply_connection
from shopbridge.flows.connection import ConnectorPool, open_order_flow
from shopbridge.flows.order_polling import poll_orders
from shopbridge.sandbox import prestashop
from shopbridge.store import Store
from tests.conftest import World

REPEAT_BUYER, OTHER_BUYER = "anna.jensen@example.dk", "erik.svensson@example.se"


def calls_of(side: Any) -> Counter[str]:
    return Counter(side.client.gate.calls)


def place_scenario(world: World) -> None:
    prestashop.place_order(world.shop_state, customer_email=REPEAT_BUYER, lines=[("MUG-01", 2)])
    prestashop.place_order(world.shop_state, customer_email=OTHER_BUYER, lines=[("CAP-01", 1)])
    prestashop.place_order(world.shop_state, customer_email=REPEAT_BUYER, lines=[("MUG-01", 1), ("CAP-01", 1)])


async def run_scenario(world: World, store: Store) -> tuple[Counter[str], Counter[str]]:
    apply_connection(store, world.connection(trigger_statuses=["2"]))
    place_scenario(world)
    pool = ConnectorPool()
    try:
        async with open_order_flow(store, world.name, pool) as flow:
            polled = await poll_orders(flow)
        for row in polled.pending:
            async with open_order_flow(store, world.name, pool) as flow:
                outcome = await flow.transfer(row.transfer_id)
                assert outcome.state == "transferred", outcome.reason
        return calls_of(flow.source), calls_of(flow.sink)
    finally:
        await pool.aclose()


# One page of changes; per order the order, its lines, its buyer and its one address; reference
# data once per connector: the currency, the carrier and the two buyers' countries (DK, SE).
SHOP_MINIMUM = Counter(
    list_orders=1, get_order=3, list_order_details=3, get_customer=3, get_address=3,
    get_currency=1, get_carrier=1, get_country=2,
)  # fmt: skip
# Per order the lookup by reference where an invoice may be (booked, drafts) and the create;
# each product once (MUG-01, CAP-01, SHIPPING, ROUNDING); a customer search and create only for
# the two buyers not bound yet.
ERP_MINIMUM = Counter(
    find_documents=6, create_invoice_draft=3, get_product=4, find_customers=2, create_customer=2,
)  # fmt: skip


async def test_three_orders_with_a_repeat_buyer_make_the_minimum_of_calls(world: World, store: Store) -> None:
    shop, erp = await run_scenario(world, store)
    assert shop == SHOP_MINIMUM
    assert erp == ERP_MINIMUM
