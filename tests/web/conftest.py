from __future__ import annotations

from dataclasses import dataclass

import pytest

from shopbridge.connection_file import apply_connection
from shopbridge.store import Store
from tests.conftest import World


@dataclass(frozen=True)
class Ledger:
    transferred: str
    parked: str


@pytest.fixture
def ledger(world: World, store: Store) -> Ledger:
    """One transferred and one parked order, written through the store as the flow writes them."""
    record = apply_connection(store, world.connection())
    done, stuck = "acme/1/101", "acme/1/102"
    claims = {}
    for tid, order_id in ((done, "101"), (stuck, "102")):
        store.ledger.ensure(tid, record.id, "1", order_id, shop_status="2")
        claims[tid] = store.ledger.claim(tid, 60)
    store.ledger.save_snapshot(
        done, order_json='{"id": "101"}', customer_email="anna.jensen@example.dk", total_gross="198.00",
        currency="DKK", order_reference="XKBKNABJK", shop_status="2",
    )
    claim = claims[done]
    assert claim is not None
    store.ledger.mark_transferred(claim, "draft_invoice", "7")
    store.ledger.mark_parked(stuck, "the ERP has no article for SKU <script>alert(1)</script>")
    store.events.add("order.parked", "parked for the test", connection_id=record.id, transfer_id=stuck)
    return Ledger(done, stuck)
