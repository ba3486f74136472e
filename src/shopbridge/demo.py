"""`shopbridge demo`: emulators with seeded data, a demo connection, orders arriving live and
flowing through the real engine, a terminal view and the web page.

`--once --orders N` places N orders, waits until each is transferred or parked, prints one JSON
summary line and succeeds only if every order was handled and no ERP document was doubled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from shopbridge.connection_file import apply_connection
from shopbridge.engine.runtime import Services, run_services
from shopbridge.flows.ids import transfer_id
from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.server import BackgroundServer, free_port
from shopbridge.settings import Settings
from shopbridge.store import Store
from shopbridge.web.webhooks import SIGNATURE_HEADER, sign

CONNECTION = "demo"
SHOP = "1"  # the emulated PrestaShop has one shop
TRIGGER_STATUS = 2  # "Payment accepted" on a PrestaShop install
AWAITING_PAYMENT = 10  # "Awaiting bank wire payment": not a trigger until it is paid
POISON_SKU = "LIMITED-01"  # sold in the shop, unknown to the ERP: orders holding it are parked
POISON_EVERY = 10  # every tenth order holds it for sure; shoppers pick it now and then too
DONE_STATES = ("transferred", "parked")


@dataclass
class DemoWorld:
    shop_state: prestashop.PrestaShopState
    erp_state: economic.EconomicState
    shop: BackgroundServer
    erp: BackgroundServer
    placed: list[str] = field(default_factory=list)
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def stop(self) -> None:
        self.shop.stop()
        self.erp.stop()

    def duplicates(self) -> int:
        documents = economic.documents_by_reference(self.erp_state)
        return sum(len(found) - 1 for found in documents.values() if len(found) > 1)


def start_world(seed: int) -> DemoWorld:
    # Retried activities are expected weather here; their warnings would bury the live view.
    logging.getLogger("temporalio").setLevel(logging.ERROR)
    shop_state = prestashop.seeded_state(seed=seed)
    prestashop.add_product(shop_state, POISON_SKU, "Limited edition print", Decimal("240.00"))
    erp_state = economic.seeded_state(seed=seed)
    # A little weather: the ERP now and then asks us to slow down.
    erp_state.faults.add(FaultRule(kind="status", status=429, retry_after=1.0, probability=0.02))
    shop = BackgroundServer(prestashop.create_app(shop_state)).start()
    erp = BackgroundServer(economic.create_app(erp_state)).start()
    return DemoWorld(shop_state, erp_state, shop, erp)


def demo_connection(world: DemoWorld) -> dict[str, Any]:
    return {
        "name": CONNECTION,
        "webhook_secret": world.webhook_secret,
        "shop": {"system": "prestashop", "url": world.shop.url, "key": prestashop.DEMO_API_KEY},
        "erp": {
            "system": "economic",
            "url": world.erp.url,
            "app_secret_token": economic.DEMO_APP_SECRET_TOKEN,
            "agreement_grant_token": economic.DEMO_AGREEMENT_GRANT_TOKEN,
            "discount_products_by_vat": {"0": "DISCOUNT0"},
        },
        "orders": {
            "trigger_statuses": [str(TRIGGER_STATUS), "3", "4", "5"],
            "document": "invoice",
            "book_invoices": True,
            "poll_interval_seconds": 2,
            "overlap_seconds": 60,
        },
    }


class OrderPlacer:
    """Places orders in the shop emulator as shoppers would, and tells ShopBridge by webhook."""

    def __init__(self, world: DemoWorld, web_url: str, seed: int) -> None:
        self.world = world
        self.web_url = web_url
        self.random = random.Random(seed)
        self.http = httpx.AsyncClient(timeout=10)

    async def place(self, index: int, status: int = TRIGGER_STATUS) -> str:
        body: dict[str, Any] = {"status": status}
        if index % POISON_EVERY == POISON_EVERY - 1:
            body["lines"] = [[POISON_SKU, 1]]
        if self.random.random() < 0.2:
            body["discount_percent"] = "10"
        response = await self.http.post(f"{self.world.shop.url}/_sandbox/orders", json=body)
        response.raise_for_status()
        order_id = str(response.json()["id"])
        self.world.placed.append(order_id)
        if self.web_url and status == TRIGGER_STATUS:
            await self._notify(order_id)
        return order_id

    async def _notify(self, order_id: str) -> None:
        """The shop module's webhook, signed with the connection's secret."""
        body = json.dumps({"id": order_id, "shop": SHOP}).encode()
        headers = {SIGNATURE_HEADER: sign(self.world.webhook_secret, body), "content-type": "application/json"}
        await self.http.post(f"{self.web_url}/webhooks/{CONNECTION}/orders", content=body, headers=headers)

    async def aclose(self) -> None:
        await self.http.aclose()


def summary(world: DemoWorld, store: Store) -> dict[str, int]:
    states = [_state_of(store, order_id) for order_id in world.placed]
    return {
        "placed": len(world.placed),
        "transferred": states.count("transferred"),
        "parked": states.count("parked"),
        "duplicates": world.duplicates(),
    }


def _state_of(store: Store, order_id: str) -> str:
    row = store.ledger.get(transfer_id(CONNECTION, SHOP, order_id))
    return row.state if row is not None else "unseen"


async def run_once(orders: int, seed: int, timeout: float) -> dict[str, int]:
    """Place `orders` orders, wait until all are handled (or `timeout`), return the summary."""
    world = start_world(seed)
    result: dict[str, int] = {}
    stop = asyncio.Event()

    async def drive(services: Services) -> None:
        placer = OrderPlacer(world, services.web_url, seed)
        try:
            for index in range(orders):
                await placer.place(index)
            await _wait_until_handled(world, services.store, timeout)
            result.update(summary(world, services.store))
        finally:
            await placer.aclose()
            stop.set()

    with tempfile.TemporaryDirectory(prefix="shopbridge-demo-") as data_dir:
        settings = _demo_settings(Path(data_dir), free_port())
        _apply_demo_connection(settings, world)
        try:
            await run_services(settings, stop, on_ready=drive)
        finally:
            world.stop()
    return result


async def _wait_until_handled(world: DemoWorld, store: Store, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if all(_state_of(store, order_id) in DONE_STATES for order_id in world.placed):
            return
        await asyncio.sleep(0.5)


async def run_live(seed: int, web_port: int, every: float, console: Console) -> None:
    """Orders keep arriving until Ctrl-C; a table shows where each one is."""
    world = start_world(seed)
    stop = asyncio.Event()

    async def drive(services: Services) -> None:
        console.print(f"Shop emulator   {world.shop.url}/api/  key {prestashop.DEMO_API_KEY}")
        console.print(f"ERP emulator    {world.erp.url}")
        console.print(f"Orders page     {services.web_url}/   (Ctrl-C stops everything)")
        console.print(f"Operator token  {token}   (paste it on the login page)")
        asyncio.create_task(_keep_placing(world, services.web_url, seed, every, stop))
        asyncio.create_task(_show_live(world, services.store, stop, console))

    from shopbridge.engine.runtime import stop_on_signals

    with tempfile.TemporaryDirectory(prefix="shopbridge-demo-") as data_dir:
        settings = _demo_settings(Path(data_dir), web_port)
        token = _apply_demo_connection(settings, world)
        stop_on_signals(stop)
        try:
            await run_services(settings, stop, on_ready=drive)
        finally:
            world.stop()


async def _keep_placing(world: DemoWorld, web_url: str, seed: int, every: float, stop: asyncio.Event) -> None:
    placer = OrderPlacer(world, web_url, seed)
    index = 0
    try:
        while not stop.is_set():
            # Some buyers pay by bank transfer: the order waits until the payment is booked.
            status = AWAITING_PAYMENT if placer.random.random() < 0.2 else TRIGGER_STATUS
            order_id = await placer.place(index, status)
            if status == AWAITING_PAYMENT:
                asyncio.create_task(_pay_later(placer, order_id, every * 3))
            index += 1
            await asyncio.sleep(every)
    finally:
        await placer.aclose()


async def _pay_later(placer: OrderPlacer, order_id: str, delay: float) -> None:
    """The bank transfer arrives: the merchant sets the order to "Payment accepted" (spec §8.1)."""
    await asyncio.sleep(delay)
    body = (
        f"<prestashop><order_history><id_order>{order_id}</id_order><id_order_state>{TRIGGER_STATUS}</id_order_state>"
        "</order_history></prestashop>"
    )
    url = f"{placer.world.shop.url}/api/order_histories"
    await placer.http.post(url, content=body, auth=(prestashop.DEMO_API_KEY, ""))


async def _show_live(world: DemoWorld, store: Store, stop: asyncio.Event, console: Console) -> None:
    with Live(console=console, refresh_per_second=2) as live:
        while not stop.is_set():
            live.update(_live_table(world, store))
            await asyncio.sleep(1)


def _live_table(world: DemoWorld, store: Store) -> Table:
    figures = summary(world, store)
    table = Table(
        title=f"placed {figures['placed']} · transferred {figures['transferred']} · "
        f"parked {figures['parked']} · duplicates {figures['duplicates']}"
    )
    for column in ("order", "state", "ERP document", "reason"):
        table.add_column(column)
    for row in store.ledger.list(limit=12):
        document = f"{row.document_kind} {row.document_number}" if row.document_number else ""
        table.add_row(row.transfer_id, row.state, document, (row.last_error or "")[:70])
    return table


def _demo_settings(data_dir: Path, web_port: int) -> Settings:
    return Settings(data_dir=data_dir, database_url=None, temporal_address=None, web_port=web_port)


def _apply_demo_connection(settings: Settings, world: DemoWorld) -> str:
    """Store the demo connection; returns a new operator token for the orders page."""
    store = Store.open(settings)
    try:
        apply_connection(store, demo_connection(world))
        return store.tokens.create("demo")
    finally:
        store.close()


def print_summary(result: dict[str, int]) -> None:
    print(json.dumps(result), flush=True)
