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
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from shopbridge.connection_file import apply_connection
from shopbridge.demo_systems import POISON_SKU, DemoErp, DemoShop, PlacedOrder, demo_erp, demo_shop
from shopbridge.engine.runtime import Services, run_services
from shopbridge.flows.ids import transfer_id
from shopbridge.sandbox.server import BackgroundServer, free_port
from shopbridge.settings import Settings
from shopbridge.store import Store
from shopbridge.web.webhooks import SIGNATURE_HEADER, sign

CONNECTION = "demo"
POISON_EVERY = 10  # every tenth order holds the print the ERP lacks; shoppers pick it now and then too
DONE_STATES = ("transferred", "parked")


@dataclass
class DemoWorld:
    shop: DemoShop
    erp: DemoErp
    shop_server: BackgroundServer
    erp_place: str
    placed: list[PlacedOrder] = field(default_factory=list)
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def stop(self) -> None:
        self.shop_server.stop()
        self.erp.stop()

    def duplicates(self) -> int:
        return self.erp.duplicates()


def start_world(seed: int, shop_system: str = "prestashop", erp_system: str = "economic") -> DemoWorld:
    # Retried activities are expected weather here; their warnings would bury the live view.
    logging.getLogger("temporalio").setLevel(logging.ERROR)
    shop, erp = demo_shop(shop_system, seed), demo_erp(erp_system, seed)
    shop_server = BackgroundServer(shop.app()).start()
    return DemoWorld(shop, erp, shop_server, erp.start())


def demo_connection(world: DemoWorld, web_url: str, store: Store) -> dict[str, Any]:
    return {
        "name": CONNECTION,
        "webhook_secret": world.webhook_secret,
        "shop": world.shop.side(world.shop_server.url),
        "erp": world.erp.side(web_url, store, CONNECTION),
        "orders": {
            "trigger_statuses": world.shop.trigger_statuses,
            "document": world.erp.document,
            "book_invoices": world.erp.document == "invoice",
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

    async def place(self, index: int, paid: bool = True) -> PlacedOrder:
        lines = [(POISON_SKU, 1)] if index % POISON_EVERY == POISON_EVERY - 1 else None
        order = self.world.shop.place(self.random, lines, paid)
        self.world.placed.append(order)
        if self.web_url and paid:
            await self.notify(order)
        return order

    async def notify(self, order: PlacedOrder) -> None:
        """The shop's webhook, signed with the connection's secret."""
        body = self.world.shop.webhook_body(order)
        headers = {SIGNATURE_HEADER: sign(self.world.webhook_secret, body), "content-type": "application/json"}
        await self.http.post(f"{self.web_url}/webhooks/{CONNECTION}/orders", content=body, headers=headers)

    async def aclose(self) -> None:
        await self.http.aclose()


def summary(world: DemoWorld, store: Store) -> dict[str, int]:
    states = [_state_of(store, order) for order in world.placed]
    return {
        "placed": len(world.placed),
        "transferred": states.count("transferred"),
        "parked": states.count("parked"),
        "duplicates": world.duplicates(),
    }


def _state_of(store: Store, order: PlacedOrder) -> str:
    row = store.ledger.get(transfer_id(CONNECTION, order.shop, order.order_id))
    return row.state if row is not None else "unseen"


async def run_once(
    orders: int, seed: int, timeout: float, shop: str = "prestashop", erp: str = "economic"
) -> dict[str, int]:
    """Place `orders` orders, wait until all are handled (or `timeout`), return the summary."""
    world = start_world(seed, shop, erp)
    result: dict[str, int] = {}
    stop = asyncio.Event()

    async def drive(services: Services) -> None:
        world.erp.serving(services.web_url)
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
        if all(_state_of(store, order) in DONE_STATES for order in world.placed):
            return
        await asyncio.sleep(0.5)


async def run_live(
    seed: int, web_port: int, every: float, console: Console, shop: str = "prestashop", erp: str = "economic"
) -> None:
    """Orders keep arriving until Ctrl-C; a table shows where each one is."""
    world = start_world(seed, shop, erp)
    stop = asyncio.Event()

    async def drive(services: Services) -> None:
        world.erp.serving(services.web_url)
        console.print(f"Shop emulator   {world.shop.system} at {world.shop_server.url}")
        console.print(f"ERP emulator    {world.erp.system} at {world.erp_place}")
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
            paid = placer.random.random() >= 0.2
            order = await placer.place(index, paid)
            if not paid:
                asyncio.create_task(_pay_later(placer, order, every * 3))
            index += 1
            await asyncio.sleep(every)
    finally:
        await placer.aclose()


async def _pay_later(placer: OrderPlacer, order: PlacedOrder, delay: float) -> None:
    """The bank transfer arrives: the merchant marks the order paid, and the shop says so."""
    await asyncio.sleep(delay)
    placer.world.shop.pay(order)
    await placer.notify(order)


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
        apply_connection(store, demo_connection(world, f"http://127.0.0.1:{settings.web_port}", store))
        return store.tokens.create("demo")
    finally:
        store.close()


def print_summary(result: dict[str, int]) -> None:
    print(json.dumps(result), flush=True)
