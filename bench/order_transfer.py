"""`make bench`: calls per order, engine vs bare Temporal, webhook latency, pacing under rate limits.

Everything runs on one embedded Temporal dev server and emulators on loopback. Figures, never
assertions. `--profile FILE` writes a pyinstrument profile of the unpaced engine rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
from bare_workflow import BareWorkflow, noop
from temporalio.client import Client
from temporalio.worker import Worker
from world import WEBHOOK_SECRET, World, bench_world, order_bound, percentile

from shopbridge.engine.devserver import DevServer
from shopbridge.engine.worker import MAX_CONCURRENT_ACTIVITIES, build_worker, store_url
from shopbridge.flows.connection import ConnectorPool
from shopbridge.flows.ids import transfer_id
from shopbridge.sandbox.registry import RATE_LIMITS
from shopbridge.store.rate_budget import rate_budget_for
from shopbridge.web.app import create_app
from shopbridge.web.webhooks import SIGNATURE_HEADER, sign

ROUND_TRIP_SECONDS = 0.08
# Latency as a merchant sees it: orders arriving one by one, not a burst of them at once.
STEADY_ORDERS, STEADY_EVERY_SECONDS = 40, 0.25


class Driver:
    """Sends webhooks through the real web app and waits for each order's workflow to finish."""

    def __init__(self, client: Client, world: World, task_queue: str) -> None:
        self.client, self.world = client, world
        transport = httpx.ASGITransport(create_app(world.store, client, task_queue))
        self.web = httpx.AsyncClient(transport=transport, base_url="http://web.test")
        self.latencies: list[float] = []

    async def order(self, order_id: str) -> None:
        started = time.perf_counter()
        body = json.dumps({"id": order_id}).encode()
        answer = await self.web.post(f"/webhooks/{self.world.name}/orders", content=body,
                                     headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)})  # fmt: skip
        answer.raise_for_status()
        await self.client.get_workflow_handle(transfer_id(self.world.name, "1", order_id)).result()
        self.latencies.append(time.perf_counter() - started)

    async def steady(self, count: int, every: float) -> list[float]:
        """Latencies of `count` orders placed and announced one every `every` seconds."""
        self.latencies.clear()
        tasks = []
        for order_id in self.world.place(count):
            tasks.append(asyncio.create_task(self.order(order_id)))
            await asyncio.sleep(every)
        await asyncio.gather(*tasks)
        return list(self.latencies)

    async def batch(self, count: int) -> float:
        """Orders per second for `count` orders placed and announced at once."""
        order_ids = self.world.place(count)
        started = time.perf_counter()
        await asyncio.gather(*(self.order(order_id) for order_id in order_ids))
        return count / (time.perf_counter() - started)


async def bare_batch(client: Client, task_queue: str, count: int) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(
        client.execute_workflow(BareWorkflow.run, str(n), id=f"bare-{uuid.uuid4().hex}", task_queue=task_queue)
        for n in range(count)
    ))  # fmt: skip
    return count / (time.perf_counter() - started)


@contextlib.asynccontextmanager
async def bare_worker(client: Client, task_queue: str) -> AsyncIterator[None]:
    worker = Worker(client, task_queue=task_queue, workflows=[BareWorkflow], activities=[noop],
                    max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES)  # fmt: skip
    async with worker:
        yield


async def engine_vs_bare(client: Client, rounds: int, batch: int, profile: Path | None) -> None:
    with bench_world() as world:
        pool = ConnectorPool()
        engine = build_worker(client, world.store, "bench-engine", connectors=pool)
        async with engine, bare_worker(client, "bench-bare"):
            driver = Driver(client, world, "bench-engine")
            await driver.batch(5)
            await bare_batch(client, "bench-bare", 5)  # warm both paths up
            driver.latencies.clear()
            engine, bare = await interleaved(rounds, lambda: driver.batch(batch),
                                             lambda: bare_batch(client, "bench-bare", batch), profile)  # fmt: skip
            burst = list(driver.latencies)
            steady = await driver.steady(STEADY_ORDERS, STEADY_EVERY_SECONDS)
            shop, erp = await counted_calls(pool, world)
        print_calls(world, shop, erp)
    print_throughput(engine, bare, burst, steady)


async def interleaved(
    rounds: int, engine: Callable[[], Awaitable[float]], bare: Callable[[], Awaitable[float]], profile: Path | None
) -> tuple[list[float], list[float]]:
    engine_rates, bare_rates = [], []
    with profiling(profile):
        for _ in range(rounds):
            engine_rates.append(await engine())
            bare_rates.append(await bare())
    return engine_rates, bare_rates


@contextlib.contextmanager
def profiling(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        path.write_text(profiler.output_text(unicode=True, show_all=True))


async def counted_calls(pool: ConnectorPool, world: World) -> tuple[Counter[str], Counter[str]]:
    record = world.store.connections.get(world.name)
    async with pool.lease(record) as (source, sink):
        return Counter(source.client.gate.calls), Counter(sink.client.gate.calls)  # type: ignore[attr-defined]


def print_calls(world: World, shop: Counter[str], erp: Counter[str]) -> None:
    orders = len(world.placed)
    minimum_shop, minimum_erp = world.minimum_calls()
    print(f"\ncalls per order ({orders} paid orders as draft invoices, webhook path, one connector pair)")
    for system, done, needed in (("prestashop", shop, minimum_shop), ("economic", erp, minimum_erp)):
        total, least = sum(done.values()), sum(needed.values())
        print(f"  {system:<11} {total / orders:6.2f} per order, minimum {least / orders:5.2f}, "
              f"ratio {total / least:4.2f} (goal <= 1.2)")  # fmt: skip
        for purpose in sorted(set(done) | set(needed)):
            print(f"    {purpose:<22} {done[purpose] / orders:6.2f}   minimum {needed[purpose] / orders:5.2f}")


def print_throughput(engine: list[float], bare: list[float], burst: list[float], steady: list[float]) -> None:
    engine_mean, bare_mean = sum(engine) / len(engine), sum(bare) / len(bare)
    print("\nengine vs bare one-activity workflows, interleaved rounds on one dev server")
    print("  engine orders/s  " + "  ".join(f"{rate:6.1f}" for rate in engine))
    print("  bare workflows/s " + "  ".join(f"{rate:6.1f}" for rate in bare))
    print(f"  ratio {engine_mean / bare_mean:.2f} (goal >= 0.67)")
    for name, latencies in (("in the rounds' bursts", burst),
                            (f"one order every {STEADY_EVERY_SECONDS} s", steady)):  # fmt: skip
        p50, p95, p99 = (percentile(latencies, pct) * 1000 for pct in (50, 95, 99))
        print(f"  webhook to document, {name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms "
              f"({len(latencies)} orders; goal p50 < 1000, p99 < 3000)")  # fmt: skip


async def paced(client: Client, orders: int) -> None:
    """80 ms round trip on every call, each emulator enforcing its system's limit; shared budget on."""
    with bench_world(round_trip=ROUND_TRIP_SECONDS, rate_limited=True) as world:
        budget = rate_budget_for(store_url(world.store))
        pool = ConnectorPool(budget)
        async with build_worker(client, world.store, "bench-paced", connectors=pool):
            rate = await Driver(client, world, "bench-paced").batch(orders)
            shop, erp = await counted_calls(pool, world)
        await budget.aclose()
        shop_limit, erp_limit = RATE_LIMITS["prestashop"], RATE_LIMITS["economic"]
        bound = order_bound(shop_limit, erp_limit)
        made = min(shop_limit[0] / shop_limit[1] / (sum(shop.values()) / orders),
                   erp_limit[0] / erp_limit[1] / (sum(erp.values()) / orders))  # fmt: skip
        print(f"\nunder rate limits with a {ROUND_TRIP_SECONDS * 1000:.0f} ms round trip ({orders} orders)")
        print(f"  {rate:.2f} orders/s; the slower side's limit allows {bound:.2f} at the minimum calls per order; "
              f"ratio {rate / bound:.2f} (goal >= 0.9)")  # fmt: skip
        print(f"  at the calls this run made it allows {made:.2f}: the budget reached {rate / made:.2f} of it")
        print(f"  429s received: {world.refused()} (goal 0)")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as data:
        server = DevServer(Path(data) / "temporal")
        client = await server.start()
        try:
            await engine_vs_bare(client, args.rounds, args.batch, args.profile)
            await paced(client, args.paced_orders)
        finally:
            server.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the worker process: {peak_mb:.0f} MB (the bench driver and web app included; "
          "the emulators and the Temporal dev server run apart)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved engine/bare rounds")
    parser.add_argument("--batch", type=int, default=30, help="orders (and bare workflows) per round")
    parser.add_argument("--paced-orders", type=int, default=120, help="orders for the rate-limited run")
    parser.add_argument("--profile", type=Path, default=None, help="write a pyinstrument profile here")
    asyncio.run(main(parser.parse_args()))
