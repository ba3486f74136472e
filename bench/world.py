"""A benchmark's world: both emulators in a process of their own, a SQLite store, one connection, a fixed scenario."""

from __future__ import annotations

import math
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from emulators import Emulators

from shopbridge.connection_file import apply_connection
from shopbridge.store import SecretBox, Store

# Buyers and baskets cycle: every third order is from a buyer seen before.
BUYERS = ("anna.jensen@example.dk", "lars.nielsen@example.dk", "erik.svensson@example.se", "ola.nordmann@example.no")
BASKETS = ([("MUG-01", 2)], [("CAP-01", 1), ("MUG-01", 1)], [("BAG-TOTE", 1)], [("SOCK-3P", 2), ("CAP-01", 1)])
SHOP_CALLS_PER_ORDER = 4  # the order, its lines, its buyer, its one address
ERP_CALLS_PER_ORDER = 3  # lookup in booked invoices and in drafts, then the create
WEBHOOK_SECRET = "bench-webhook-secret"


@dataclass
class World:
    emulators: Emulators
    store: Store
    # Unique per world: transfer ids are workflow ids, and both worlds share one dev server.
    name: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    placed: list[int] = field(default_factory=list)

    def connection(self) -> dict[str, Any]:
        where = self.emulators.where
        return {
            "name": self.name,
            "shop": {"system": "prestashop", "url": where["shop_url"], "key": where["shop_key"]},
            "erp": {
                "system": "economic",
                "url": where["erp_url"],
                "app_secret_token": where["app_secret_token"],
                "agreement_grant_token": where["agreement_grant_token"],
            },
            "orders": {"trigger_statuses": ["2"], "document": "invoice"},
            "webhook_secret": WEBHOOK_SECRET,
        }

    def place(self, count: int) -> list[str]:
        start = len(self.placed)
        wanted = [(BUYERS[i % len(BUYERS)], BASKETS[i % len(BASKETS)]) for i in range(start, start + count)]
        self.placed += self.emulators.place(wanted)
        return [str(order_id) for order_id in self.placed[start:]]

    def refused(self) -> int:
        """429s the emulators answered."""
        return self.emulators.refused()

    def minimum_calls(self) -> tuple[Counter[str], Counter[str]]:
        """What the placed orders needed at least, by purpose, over one connector pair, each order
        read alone; reads joined while the shop's budget is busy may go below it."""
        orders, buyers = len(self.placed), {BUYERS[i % len(BUYERS)] for i in range(len(self.placed))}
        skus = {sku for i in range(orders) for sku, _ in BASKETS[i % len(BASKETS)]}
        countries = {email.rsplit(".", 1)[-1] for email in buyers}
        shop = Counter(get_order=orders, list_order_details=orders, get_customer=orders, get_address=orders,
                       get_currency=1, get_carrier=1, get_country=len(countries))  # fmt: skip
        erp = Counter(find_documents=2 * orders, create_invoice_draft=orders, get_product=len(skus) + 2,
                      find_customers=len(buyers), create_customer=len(buyers))  # fmt: skip
        return shop, erp


def order_bound(shop_limit: tuple[int, float], erp_limit: tuple[int, float]) -> float:
    """Orders a second the slower side's rate limit allows at the minimum calls per order."""
    shop = shop_limit[0] / shop_limit[1] / SHOP_CALLS_PER_ORDER
    erp = erp_limit[0] / erp_limit[1] / ERP_CALLS_PER_ORDER
    return min(shop, erp)


@contextmanager
def bench_world(round_trip: float = 0.0, rate_limited: bool = False) -> Iterator[World]:
    emulators = Emulators.start(round_trip, rate_limited)
    with tempfile.TemporaryDirectory() as data:
        store = Store(f"sqlite:///{Path(data) / 'bench.db'}", SecretBox(Fernet.generate_key()))
        store.migrate()
        world = World(emulators, store)
        apply_connection(store, world.connection())
        try:
            yield world
        finally:
            store.close()
            emulators.stop()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]
