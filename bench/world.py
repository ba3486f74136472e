"""A benchmark's world: both emulators on loopback, a SQLite store, one connection, a fixed scenario."""

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

from shopbridge.connection_file import apply_connection
from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.limits import TokenBucket
from shopbridge.sandbox.registry import RATE_LIMITS
from shopbridge.sandbox.server import BackgroundServer, serving
from shopbridge.store import SecretBox, Store

# Buyers and baskets cycle: every third order is from a buyer seen before.
BUYERS = ("anna.jensen@example.dk", "lars.nielsen@example.dk", "erik.svensson@example.se", "ola.nordmann@example.no")
BASKETS = ([("MUG-01", 2)], [("CAP-01", 1), ("MUG-01", 1)], [("BAG-TOTE", 1)], [("SOCK-3P", 2), ("CAP-01", 1)])
SHOP_CALLS_PER_ORDER = 4  # the order, its lines, its buyer, its one address
ERP_CALLS_PER_ORDER = 3  # lookup in booked invoices and in drafts, then the create


@dataclass
class World:
    shop_state: prestashop.PrestaShopState
    erp_state: economic.EconomicState
    shop: BackgroundServer
    erp: BackgroundServer
    store: Store
    # Unique per world: transfer ids are workflow ids, and both worlds share one dev server.
    name: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    placed: list[int] = field(default_factory=list)

    def connection(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shop": {"system": "prestashop", "url": self.shop.url, "key": self.shop_state.api_key},
            "erp": {
                "system": "economic",
                "url": self.erp.url,
                "app_secret_token": self.erp_state.app_secret_token,
                "agreement_grant_token": self.erp_state.agreement_grant_token,
            },
            "orders": {"trigger_statuses": ["2"], "document": "invoice"},
        }

    def place(self, count: int) -> list[str]:
        start = len(self.placed)
        for index in range(start, start + count):
            buyer, basket = BUYERS[index % len(BUYERS)], BASKETS[index % len(BASKETS)]
            self.placed.append(prestashop.place_order(self.shop_state, customer_email=buyer, lines=basket))
        return [str(order_id) for order_id in self.placed[start:]]

    def refused(self) -> int:
        """429s the emulators answered."""
        buckets = (self.shop_state.rate_limit, self.erp_state.rate_limit)
        return sum(bucket.refused for bucket in buckets if bucket is not None)

    def minimum_calls(self) -> tuple[Counter[str], Counter[str]]:
        """What the placed orders needed at least, by purpose, over one connector pair."""
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
    shop_state, erp_state = prestashop.seeded_state(seed=11), economic.seeded_state(seed=11)
    for state, system in ((shop_state, "prestashop"), (erp_state, "economic")):
        state.round_trip_seconds = round_trip
        state.rate_limit = TokenBucket.per_window(*RATE_LIMITS[system]) if rate_limited else None
    with tempfile.TemporaryDirectory() as data, serving(prestashop.create_app(shop_state)) as shop, serving(
        economic.create_app(erp_state)
    ) as erp:
        store = Store(f"sqlite:///{Path(data) / 'bench.db'}", SecretBox(Fernet.generate_key()))
        store.migrate()
        world = World(shop_state, erp_state, shop, erp, store)
        apply_connection(store, world.connection())
        try:
            yield world
        finally:
            store.close()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]
