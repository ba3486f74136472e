"""Order transfer figures: in-process flow throughput and end-to-end through the embedded engine.

Prints orders per second, per-order latency percentiles and peak memory. Run with `make bench`
(or `python bench/order_transfer.py --orders 300 --engine-orders 60`). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from shopbridge.connection_file import apply_connection
from shopbridge.demo import run_once
from shopbridge.flows.connection import open_order_flow
from shopbridge.flows.order_polling import poll_orders
from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.server import serving
from shopbridge.store import SecretBox, Store


def connection(shop_url: str, erp_url: str, shop: prestashop.PrestaShopState, erp: economic.EconomicState) -> dict[str, object]:
    return {
        "name": "bench",
        "shop": {"system": "prestashop", "url": shop_url, "key": shop.api_key},
        "erp": {
            "system": "economic",
            "url": erp_url,
            "app_secret_token": erp.app_secret_token,
            "agreement_grant_token": erp.agreement_grant_token,
        },
        "orders": {"trigger_statuses": ["2"], "document": "invoice"},
    }


async def in_process(orders: int) -> None:
    """Poll once, then transfer every order one after another over loopback HTTP."""
    shop_state, erp_state = prestashop.seeded_state(seed=11), economic.seeded_state(seed=11)
    for _ in range(orders):
        prestashop.place_order(shop_state)
    with tempfile.TemporaryDirectory() as data, serving(prestashop.create_app(shop_state)) as shop, serving(
        economic.create_app(erp_state)
    ) as erp:
        store = Store(f"sqlite:///{Path(data) / 'bench.db'}", SecretBox(Fernet.generate_key()))
        store.migrate()
        apply_connection(store, connection(shop.url, erp.url, shop_state, erp_state))
        latencies: list[float] = []
        started = time.perf_counter()
        async with open_order_flow(store, "bench") as flow:
            polled = await poll_orders(flow)
            poll_seconds = time.perf_counter() - started
            for row in polled.pending:
                begin = time.perf_counter()
                await flow.transfer(row.transfer_id)
                latencies.append(time.perf_counter() - begin)
        total = time.perf_counter() - started
        counts = store.ledger.count_by_state()
        store.close()
    duplicates = sum(len(d) - 1 for d in economic.documents_by_reference(erp_state).values() if len(d) > 1)
    print(f"in-process flow: {orders} orders in {total:.2f} s = {orders / total:.1f} orders/s "
          f"(poll {poll_seconds:.2f} s); per order p50 {percentile(latencies, 50) * 1000:.1f} ms, "
          f"p95 {percentile(latencies, 95) * 1000:.1f} ms; transferred {counts['transferred']}, duplicates {duplicates}")


async def through_engine(orders: int) -> None:
    """The demo's path: orders placed, webhook + poll, Temporal workflows, one JSON summary."""
    started = time.perf_counter()
    result = await run_once(orders, seed=5, timeout=600)
    total = time.perf_counter() - started
    print(f"engine end to end (dev server start included): {result} in {total:.1f} s = "
          f"{orders / total:.1f} orders/s")


def percentile(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=300, help="orders for the in-process run")
    parser.add_argument("--engine-orders", type=int, default=60, help="orders for the engine run")
    args = parser.parse_args()
    asyncio.run(in_process(args.orders))
    asyncio.run(through_engine(args.engine_orders))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:.0f} MB (the Temporal dev server runs apart)")


if __name__ == "__main__":
    main()
