"""Chaos benchmark: orders flow PrestaShop → e-conomic while both sides fail about 10 % of calls,
a worker is SIGKILLed every 20 s and Temporal restarts once; then the faults stop and we measure.

Every part runs as its own process: both emulators (`shopbridge sandbox serve`), the Temporal dev
server (SQLite file, so workflows survive its restart) and `shopbridge worker`s sharing one store
(a private PostgreSQL schema, else SQLite). Orders are placed over HTTP: most paid at once, some
paid a little later, a few never; half the paid ones are also announced by a webhook-like start.

Prints ONE JSON line and exits 1 on any lost order, duplicate ERP document or unpaid order
transferred. `--short` is the quick run `make test` uses; `--settled` leaves out the faults that
only a transfer with a settle-wait survives (late_commit, delayed_visibility).
Run: `make chaos` or `python bench/chaos.py --orders 300`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from chaos_processes import Temporal, Workers, private_database, start_emulator, stop
from cryptography.fernet import Fernet
from temporalio.client import Client
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from shopbridge.connection_file import apply_connection
from shopbridge.connectors.prestashop import PrestaShopConnector
from shopbridge.engine.contracts import OrderRef
from shopbridge.engine.control import start_transfer
from shopbridge.flows.ids import transfer_id
from shopbridge.flows.rules import OrderRules
from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.economic.state import DOCUMENT_COLLECTIONS
from shopbridge.store import SecretBox, Store

CONNECTION, SHOP, TASK_QUEUE = "chaos", "1", "shopbridge-chaos"
# The bench's own client retries loudly while Temporal restarts; the one JSON line stays alone on stdout.
QUIET = TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")))
PAID, AWAITING_PAYMENT = 2, 10
DONE = ("transferred", "parked")
ERP_HEADERS = {
    "X-AppSecretToken": economic.DEMO_APP_SECRET_TOKEN,
    "X-AgreementGrantToken": economic.DEMO_AGREEMENT_GRANT_TOKEN,
}


@dataclass(frozen=True)
class Profile:
    fault_seconds: float
    kill_every: float
    poll_interval: float
    pay_later_max: float
    wait_seconds: float
    workers: int
    settled: bool


# The default run places its 300 orders during the first 60 % of its 120 s of weather; the rest of
# it lets the backlog work down. A longer run keeps that pace unless `--rate` says otherwise: ten
# thousand orders in 72 s would test a burst no shop sees, not a long day of weather.
PLACING_SHARE = 0.6
DEFAULT_RATE = 300 / (120 * PLACING_SHARE)


def placing_seconds(args: argparse.Namespace) -> float:
    return float(args.orders / (args.rate or DEFAULT_RATE))


def profile(args: argparse.Namespace) -> Profile:
    if args.short:
        return Profile(40, 20, 3, 8, 60, 2, args.settled)
    # The weather lasts while the orders are placed and as long again after as the default run's
    # (48 s), so a long run is not mostly weather after the orders.
    fault_seconds = max(args.fault_seconds, placing_seconds(args) + args.fault_seconds * (1 - PLACING_SHARE))
    return Profile(fault_seconds, 20, args.poll_interval, 20, 300 + args.orders / 20, args.workers, args.settled)


def shop_faults() -> list[dict[str, Any]]:
    """About 10 % of the connector's reads fail; the bench's own writes (payments) are spared."""
    read = {"method": "GET", "path": "/api/"}
    return [
        {"kind": "status", "status": 503, "probability": 0.03, **read},
        {"kind": "status", "status": 429, "retry_after": 1, "probability": 0.03, **read},
        {"kind": "latency", "seconds": 1.0, "probability": 0.02, **read},
        {"kind": "timeout", "seconds": 6.0, "probability": 0.02, **read},
    ]


def erp_faults(settled: bool) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {"kind": "status", "status": 503, "probability": 0.025},
        {"kind": "status", "status": 429, "retry_after": 1, "probability": 0.025},
        {"kind": "latency", "seconds": 1.0, "probability": 0.02},
        {"kind": "timeout", "seconds": 6.0, "probability": 0.01},
        {"kind": "drop_after_commit", "method": "POST", "probability": 0.02},
    ]
    if not settled:
        rules.append({"kind": "late_commit", "method": "POST", "seconds": 7.0, "probability": 0.01})
        rules.append({"kind": "delayed_visibility", "path": "/invoices/drafts", "seconds": 4.0, "probability": 0.2})
    return rules


def connection(
    shop_url: str, erp_url: str, poll_interval: float, lease_seconds: float | None, shop_calls: int | None
) -> dict[str, Any]:
    orders: dict[str, Any] = {"trigger_statuses": [str(PAID)], "document": "invoice",
                              "poll_interval_seconds": poll_interval, "overlap_seconds": 60}  # fmt: skip
    if lease_seconds is not None:
        orders["lease_seconds"] = lease_seconds  # how long a killed worker's claim blocks its order
    shop: dict[str, Any] = {"system": "prestashop", "url": shop_url, "key": prestashop.DEMO_API_KEY,
                            "timeout_seconds": 5}  # fmt: skip
    if shop_calls is not None:
        shop["rate_limit"] = {"requests": shop_calls, "seconds": 1}  # what the merchant says the shop takes
    return {
        "name": CONNECTION,
        "shop": shop,
        "erp": {
            "system": "economic",
            "url": erp_url,
            "app_secret_token": economic.DEMO_APP_SECRET_TOKEN,
            "agreement_grant_token": economic.DEMO_AGREEMENT_GRANT_TOKEN,
            "timeout_seconds": 5,
        },
        "orders": orders,
    }


@dataclass
class Placed:
    order_id: str
    paid_at: datetime | None = None


@dataclass
class Shopper:
    """Places and pays orders the way shoppers and payment providers do, over HTTP."""

    shop_url: str
    http: httpx.AsyncClient
    temporal: Client | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    orders: list[Placed] = field(default_factory=list)
    webhooks_lost: int = 0

    async def shop_call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for _ in range(20):
            try:
                response = await self.http.request(method, self.shop_url + path, **kwargs)
                if response.is_success:
                    return response
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the shop emulator refused {method} {path} 20 times")

    async def order(self, pay_after: float | None) -> None:
        status = PAID if pay_after == 0 else AWAITING_PAYMENT
        response = await self.shop_call("POST", "/_sandbox/orders", json={"status": status})
        placed = Placed(str(response.json()["id"]))
        self.orders.append(placed)
        if pay_after is None:
            return
        if pay_after:
            await asyncio.sleep(pay_after)
            await self.pay(placed.order_id)
        placed.paid_at = datetime.now(UTC)
        if self.rng.random() < 0.5:
            await self.webhook(placed.order_id)

    async def pay(self, order_id: str) -> None:
        body = f"<prestashop><order_history><id_order>{order_id}</id_order><id_order_state>{PAID}</id_order_state>"
        body += "</order_history></prestashop>"
        auth = (prestashop.DEMO_API_KEY, "")
        await self.shop_call("POST", "/api/order_histories", content=body.encode(), auth=auth)

    async def webhook(self, order_id: str) -> None:
        """What the web app does for a webhook; while Temporal restarts it is lost, as it would be."""
        try:
            assert self.temporal is not None
            await asyncio.wait_for(start_transfer(self.temporal, OrderRef(CONNECTION, SHOP, order_id), TASK_QUEUE), 5)
        except Exception:  # noqa: BLE001 - a lost webhook is part of the weather; polling must cover it
            self.webhooks_lost += 1


async def place_orders(shopper: Shopper, count: int, within: float, pay_later_max: float) -> None:
    """Spread `count` orders over `within` seconds: 70 % paid at once, 20 % later, 10 % never."""
    tasks: list[asyncio.Task[None]] = []
    started = time.monotonic()
    for index in range(count):
        await asyncio.sleep(max(0.0, started + within * index / count - time.monotonic()))
        draw = shopper.rng.random()
        pay_after = 0.0 if draw < 0.7 else (shopper.rng.uniform(1, pay_later_max) if draw < 0.9 else None)
        tasks.append(asyncio.create_task(shopper.order(pay_after)))
    await asyncio.gather(*tasks)


async def weather(cluster: Cluster, shopper: Shopper, seconds: float, kill_every: float) -> None:
    """Kill a worker every `kill_every` seconds and restart Temporal once, half way through."""
    started = time.monotonic()
    next_kill, restarted = started + kill_every, False
    while (now := time.monotonic()) < started + seconds:
        if now >= next_kill:
            cluster.workers.kill_one()
            next_kill += kill_every
        if not restarted and now >= started + seconds / 2:
            restarted = True
            cluster.temporal_restart_at = datetime.now(UTC)
            await cluster.temporal.restart()
            shopper.temporal = await connect(cluster.temporal.address)
        cluster.workers.replace_exited()
        await asyncio.sleep(0.5)


async def connect(address: str) -> Client:
    return await Client.connect(address, runtime=Runtime(telemetry=QUIET))


@dataclass
class Cluster:
    temporal: Temporal
    workers: Workers
    store: Store
    shop_url: str
    erp_url: str
    faults_from: datetime = field(default_factory=lambda: datetime.now(UTC))
    temporal_restart_at: datetime | None = None


async def set_faults(http: httpx.AsyncClient, url: str, rules: list[dict[str, Any]] | None) -> int:
    """Replace (or clear, with None) an emulator's fault rules; returns how many have fired."""
    path = f"{url}/_sandbox/faults"
    response = await (http.put(path, json=rules) if rules is not None else http.delete(path))
    response.raise_for_status()
    return int(response.json()["fired"])


async def erp_references(http: httpx.AsyncClient, erp_url: str) -> list[str]:
    """`references.other` of every document in the ERP (one entry per document)."""
    found: list[str] = []
    for collection in DOCUMENT_COLLECTIONS:
        for page in range(10_000):
            params = {"pagesize": "1000", "skippages": str(page)}
            response = await http.get(f"{erp_url}/{collection}", params=params, headers=ERP_HEADERS)
            response.raise_for_status()
            documents = response.json()["collection"]
            found += [str((doc.get("references") or {}).get("other", "")) for doc in documents]
            if len(documents) < 1000:
                break
    return [reference for reference in found if reference]


@dataclass
class Drain:
    """How the backlog left when the faults stopped went away."""

    backlog: int
    seconds: float | None = None
    # Seconds until nine in ten of that backlog were done: the bulk, apart from the stragglers.
    ninety_percent_seconds: float | None = None


async def wait_until_drained(store: Store, paid: int, limit: float) -> Drain:
    """Watch every paid order become transferred or parked; `seconds` stays None if `limit` passed first."""
    connection_id = store.connections.get(CONNECTION).id
    started = time.monotonic()
    drain: Drain | None = None
    while time.monotonic() - started < limit:
        counts = store.ledger.count_by_state(connection_id)
        left = paid - sum(counts[state] for state in DONE)
        drain = drain or Drain(backlog=left)
        if drain.ninety_percent_seconds is None and left <= drain.backlog // 10:
            drain.ninety_percent_seconds = round(time.monotonic() - started, 1)
        if left <= 0:
            drain.seconds = round(time.monotonic() - started, 1)
            return drain
        await asyncio.sleep(0.5)
    return drain or Drain(backlog=paid)


def lag_timeline(cluster: Cluster, shopper: Shopper) -> dict[str, Any]:
    """The longest payment-to-ledger lag of the orders paid in each 10 s of the run, so a spike
    can be laid beside the kills (every 20 s) and the Temporal restart; transfers per 10 s and
    attempts per transfer, to see where the throughput went."""
    worst: dict[int, float] = {}
    for placed in shopper.orders:
        row = cluster.store.ledger.get(transfer_id(CONNECTION, SHOP, placed.order_id))
        if placed.paid_at is not None and row is not None:
            bucket = int((placed.paid_at - cluster.faults_from).total_seconds() // 10) * 10
            worst[bucket] = max(worst.get(bucket, 0.0), (row.created_at - placed.paid_at).total_seconds())
    done: dict[int, int] = {}
    attempts: list[int] = []
    for row in cluster.store.ledger.list(state="transferred", limit=1_000_000):
        attempts.append(row.attempts)
        if row.transferred_at is not None:
            bucket = int((row.transferred_at - cluster.faults_from).total_seconds() // 10) * 10
            done[bucket] = done.get(bucket, 0) + 1
    attempts.sort()
    restart = cluster.temporal_restart_at
    return {
        # Throughput over time: how many orders were transferred in each 10 s of the run.
        "transferred_by_10s": {str(bucket): count for bucket, count in sorted(done.items())},
        "attempts_p50_p95_max": [attempts[len(attempts) // 2], attempts[int(0.95 * (len(attempts) - 1))],
                                 attempts[-1]] if attempts else None,  # fmt: skip
        "temporal_restart_at_s": round((restart - cluster.faults_from).total_seconds()) if restart else None,
        "ledger_lag_max_by_10s": {str(bucket): round(lag, 1) for bucket, lag in sorted(worst.items())},
    }


def ledger_figures(store: Store, shopper: Shopper, poll_interval: float) -> dict[str, Any]:
    # lost: paid, yet no ledger row at the end; unfinished: admitted, not transferred or parked yet.
    states: dict[str, int] = {"transferred": 0, "parked": 0, "unfinished": 0, "lost": 0, "unpaid_transferred": 0}
    lags: list[float] = []
    for placed in shopper.orders:
        row = store.ledger.get(transfer_id(CONNECTION, SHOP, placed.order_id))
        if placed.paid_at is None:
            states["unpaid_transferred"] += row is not None
            continue
        state = row.state if row is not None else "lost"
        states[state if state in (*DONE, "lost") else "unfinished"] += 1
        if row is not None:
            lags.append((row.created_at - placed.paid_at).total_seconds())
    lags.sort()
    within = sum(lag <= 2 * poll_interval for lag in lags)
    return {
        **states,
        "in_ledger_within_2_polls": f"{within}/{sum(p.paid_at is not None for p in shopper.orders)}",
        "ledger_lag_p95_s": round(lags[int(0.95 * (len(lags) - 1))], 1) if lags else None,
        "ledger_lag_max_s": round(lags[-1], 1) if lags else None,
    }


def document_figures(references: list[str], store: Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reference in references:
        counts[reference] = counts.get(reference, 0) + 1
    transferred = {row.transfer_id for row in store.ledger.list(state="transferred", limit=1_000_000)}
    return {
        "duplicates": sum(count - 1 for count in counts.values()),
        "stray_documents": sum(count for reference, count in counts.items() if reference not in transferred),
    }


async def run(args: argparse.Namespace, work: Path, database_url: str) -> dict[str, Any]:
    plan = profile(args)
    shop, erp = start_emulator("prestashop", args.seed, work), start_emulator("economic", args.seed, work)
    secret = Fernet.generate_key()
    store = Store(database_url, SecretBox(secret))
    store.migrate()
    apply_connection(store, connection(shop.url + "/api/", erp.url, plan.poll_interval, args.lease_seconds,
                                       args.shop_calls_per_second))  # fmt: skip
    temporal = Temporal(work / "temporal")
    await temporal.start()
    env = {**os.environ, "SHOPBRIDGE_TEMPORAL_ADDRESS": temporal.address, "SHOPBRIDGE_DATABASE_URL": database_url,
           "SHOPBRIDGE_SECRET_KEY": secret.decode(), "SHOPBRIDGE_DATA_DIR": str(work / "data"),
           "SHOPBRIDGE_TASK_QUEUE": TASK_QUEUE}  # fmt: skip
    cluster = Cluster(temporal, Workers(env, work), store, shop.url, erp.url)
    try:
        for _ in range(plan.workers):
            cluster.workers.start()
        return await drive(args, plan, cluster)
    finally:
        cluster.workers.stop_all()
        temporal.stop()
        stop(shop.process)
        stop(erp.process)
        store.close()


async def drive(args: argparse.Namespace, plan: Profile, cluster: Cluster) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        shopper = Shopper(cluster.shop_url, http, await connect(cluster.temporal.address))
        cluster.faults_from = datetime.now(UTC)
        await set_faults(http, cluster.shop_url, shop_faults())
        await set_faults(http, cluster.erp_url, erp_faults(plan.settled))
        within = plan.fault_seconds * PLACING_SHARE if args.short else placing_seconds(args)
        placing = place_orders(shopper, args.orders, within, plan.pay_later_max)
        await asyncio.gather(placing, weather(cluster, shopper, plan.fault_seconds, plan.kill_every))
        fired = {"shop": await set_faults(http, cluster.shop_url, None),
                 "erp": await set_faults(http, cluster.erp_url, None)}  # fmt: skip
        paid = sum(placed.paid_at is not None for placed in shopper.orders)
        drain = await wait_until_drained(cluster.store, paid, plan.wait_seconds)
        references = await erp_references(http, cluster.erp_url)
    return {
        "placed": len(shopper.orders),
        "triggered": paid,
        **ledger_figures(cluster.store, shopper, plan.poll_interval),
        **lag_timeline(cluster, shopper),
        **document_figures(references, cluster.store),
        "backlog_at_fault_stop": drain.backlog,
        "drain_seconds": drain.seconds,
        "drain_90_percent_s": drain.ninety_percent_seconds,
        "poll_interval_s": plan.poll_interval,
        "lease_s": args.lease_seconds or OrderRules.model_fields["lease_seconds"].default,
        "shop_calls_per_second": args.shop_calls_per_second or PrestaShopConnector.default_limit.per_second,
        "faults_fired": fired,
        "late_commit_faults": not plan.settled,
        "worker_kills": cluster.workers.killed,
        "temporal_restarts": cluster.temporal.restarts,
        "webhooks_lost": shopper.webhooks_lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--short", action="store_true", help="a quick run (about a minute) for make test")
    parser.add_argument("--settled", action="store_true", help="no late_commit or delayed_visibility faults")
    parser.add_argument("--fault-seconds", type=float, default=120.0, help="how long the weather lasts")
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lease-seconds", type=float, default=None, help="the connection's transfer lease "
                        "(default: the product's)")  # fmt: skip
    parser.add_argument("--rate", type=float, default=None, help="orders placed per second (default: "
                        "the default run's 300 in 72 s); the weather lasts long enough to place them")
    parser.add_argument("--shop-calls-per-second", type=int, default=None, help="the connection's shop "
                        "rate limit (default: the connector's own, 10)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--database", choices=["auto", "postgresql", "sqlite"], default="auto")
    parser.add_argument("--keep", action="store_true", help="keep the logs directory and print its path")
    args = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="shopbridge-chaos-"))
    with private_database(work, args.database) as database_url:
        result = asyncio.run(run(args, work, database_url))
    result["seconds"] = round(time.monotonic() - started, 1)
    if args.keep:
        result["logs"] = str(work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result), flush=True)
    failed = result["lost"] or result["duplicates"] or result["unpaid_transferred"] or result["drain_seconds"] is None
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
