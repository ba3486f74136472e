"""The emulated shops and ERPs `shopbridge demo` pairs: how each is seeded, connected, sold from
and paid, so that any shop runs with any ERP.

Every demo shop also sells a limited-edition print that no demo ERP has an article for: orders
holding it are parked with their reason while the rest flow on.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from shopbridge.sandbox import economic, hogia, mamut, norce, prestashop, starweb
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.server import BackgroundServer
from shopbridge.store import Store

POISON_SKU = "LIMITED-01"
POISON_NAME = "Limited edition print"
POISON_PRICE = Decimal("240.00")
CHANNEL_ZONES = {"DKK": "Europe/Copenhagen", "SEK": "Europe/Stockholm"}


@dataclass(frozen=True)
class PlacedOrder:
    shop: str
    order_id: str


class DemoShop(Protocol):
    system: str
    trigger_statuses: list[str]

    def app(self) -> Any: ...

    def side(self, url: str) -> dict[str, Any]:
        """The connection's `[shop]` table for the emulator serving at `url`."""
        ...

    def place(self, rng: random.Random, lines: list[tuple[str, int]] | None, paid: bool) -> PlacedOrder: ...

    def pay(self, order: PlacedOrder) -> None: ...

    def webhook_body(self, order: PlacedOrder) -> bytes:
        """What the shop (or its module) posts to ShopBridge about the order."""
        ...


class DemoErp(Protocol):
    system: str
    document: str  # what the shop's orders become: "invoice", or "order" where the ERP takes no invoices

    def start(self) -> str:
        """Start the emulated ERP; returns where it is, for the console."""
        ...

    def side(self, web_url: str, store: Store, connection: str) -> dict[str, Any]:
        """The connection's `[erp]` table (`web_url` is ShopBridge's own, for an on-premises agent)."""
        ...

    def serving(self, web_url: str) -> None:
        """ShopBridge serves at `web_url` now: start what connects to it."""
        ...

    def stop(self) -> None: ...

    def duplicates(self) -> int:
        """Documents beyond the first carrying one transfer id."""
        ...


def _doubled(found: dict[str, list[Any]]) -> int:
    return sum(len(documents) - 1 for documents in found.values() if len(documents) > 1)


@dataclass
class PrestaShopDemo:
    seed: int
    system: str = "prestashop"
    trigger_statuses: list[str] = field(default_factory=lambda: ["2", "3", "4", "5"])

    def __post_init__(self) -> None:
        self.state = prestashop.seeded_state(seed=self.seed)
        prestashop.add_product(self.state, POISON_SKU, POISON_NAME, POISON_PRICE)

    def app(self) -> Any:
        return prestashop.create_app(self.state)

    def side(self, url: str) -> dict[str, Any]:
        return {"system": "prestashop", "url": url, "key": prestashop.DEMO_API_KEY}

    def place(self, rng: random.Random, lines: list[tuple[str, int]] | None, paid: bool) -> PlacedOrder:
        # 10 is "Awaiting bank wire payment": not a trigger status until the merchant books it.
        discount = Decimal("10") if rng.random() < 0.2 else Decimal("0")
        order_id = prestashop.place_order(self.state, lines=lines, status=2 if paid else 10, rng=rng,
                                          discount_percent=discount)  # fmt: skip
        return PlacedOrder("1", str(order_id))

    def pay(self, order: PlacedOrder) -> None:
        prestashop.set_order_state(self.state, int(order.order_id), 2)

    def webhook_body(self, order: PlacedOrder) -> bytes:
        return json.dumps({"id": order.order_id, "shop": order.shop}).encode()


@dataclass
class StarwebDemo:
    seed: int
    system: str = "starweb"
    trigger_statuses: list[str] = field(
        default_factory=lambda: [str(status) for status in (starweb.STATUS_CREATED, starweb.STATUS_PICKING,
                                                            starweb.STATUS_COMPLETED)]  # fmt: skip
    )

    def __post_init__(self) -> None:
        self.state = starweb.seeded_state(seed=self.seed)
        starweb.add_product(self.state, POISON_SKU, POISON_NAME, POISON_PRICE)

    def app(self) -> Any:
        return starweb.create_app(self.state)

    def side(self, url: str) -> dict[str, Any]:
        return {"system": "starweb", "url": url, "client_id": self.state.client_id,
                "client_secret": self.state.client_secret,
                "state_map": {str(starweb.STATUS_AWAITING_PAYMENT): "pending_payment"}}  # fmt: skip

    def place(self, rng: random.Random, lines: list[tuple[str, int]] | None, paid: bool) -> PlacedOrder:
        status = starweb.STATUS_CREATED if paid else starweb.STATUS_AWAITING_PAYMENT
        order_id = starweb.place_order(self.state, lines=lines, status=status, rng=rng)
        return PlacedOrder(self.state.shop_code, str(order_id))

    def pay(self, order: PlacedOrder) -> None:
        starweb.set_order_status(self.state, int(order.order_id), starweb.STATUS_CREATED)

    def webhook_body(self, order: PlacedOrder) -> bytes:
        return json.dumps({"shopIdCode": order.shop, "orderId": int(order.order_id)}).encode()


@dataclass
class NorceDemo:
    seed: int
    system: str = "norce"
    # Confirmed, Delivered, Invoiced; Created is an order still waiting for its payment.
    trigger_statuses: list[str] = field(default_factory=lambda: ["2", "4", "5"])

    def __post_init__(self) -> None:
        self.state = norce.seeded_state(seed=self.seed)
        norce.add_product(self.state, POISON_SKU, POISON_NAME, POISON_PRICE)

    def app(self) -> Any:
        return norce.create_app(self.state)

    def side(self, url: str) -> dict[str, Any]:
        channels = [{"application_id": channel.id, "application_key": channel.key,
                     "timezone": CHANNEL_ZONES.get(channel.currency, "Europe/Stockholm")}
                    for channel in self.state.channels.values()]  # fmt: skip
        return {"system": "norce", "url": url, "client_id": self.state.client_id,
                "client_secret": self.state.client_secret, "environment": self.state.environment,
                "channels": channels}  # fmt: skip

    def place(self, rng: random.Random, lines: list[tuple[str, int]] | None, paid: bool) -> PlacedOrder:
        channel = rng.choice(sorted(self.state.channels))  # each channel is a shop
        status = norce.Status.CONFIRMED if paid else norce.Status.CREATED
        order_no = norce.place_order(self.state, channel_id=channel, lines=lines, status=status, rng=rng)
        return PlacedOrder(str(channel), order_no)

    def pay(self, order: PlacedOrder) -> None:
        norce.set_order_status(self.state, order.order_id, norce.Status.CONFIRMED)

    def webhook_body(self, order: PlacedOrder) -> bytes:
        return json.dumps({"ApplicationId": int(order.shop), "OrderNo": order.order_id}).encode()


class HttpErpDemo:
    """An ERP emulated over HTTP on loopback."""

    server: BackgroundServer | None = None

    def app(self) -> Any:
        raise NotImplementedError

    def start(self) -> str:
        self.server = BackgroundServer(self.app()).start()
        return self.server.url

    @property
    def url(self) -> str:
        assert self.server is not None, "the emulator is not started"
        return self.server.url

    def serving(self, web_url: str) -> None:
        """Nothing connects to ShopBridge from an HTTP ERP's side."""

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@dataclass
class EconomicDemo(HttpErpDemo):
    seed: int
    system: str = "economic"
    document: str = "invoice"

    def __post_init__(self) -> None:
        self.state = economic.seeded_state(seed=self.seed)
        # A little weather: the ERP now and then asks us to slow down.
        self.state.faults.add(FaultRule(kind="status", status=429, retry_after=1.0, probability=0.02))

    def app(self) -> Any:
        return economic.create_app(self.state)

    def side(self, web_url: str, store: Store, connection: str) -> dict[str, Any]:
        return {"system": "economic", "url": self.url, "app_secret_token": economic.DEMO_APP_SECRET_TOKEN,
                "agreement_grant_token": economic.DEMO_AGREEMENT_GRANT_TOKEN,
                "discount_products_by_vat": {"0": "DISCOUNT0"}}  # fmt: skip

    def duplicates(self) -> int:
        return _doubled(economic.documents_by_reference(self.state))


@dataclass
class HogiaDemo(HttpErpDemo):
    seed: int
    system: str = "hogia"
    document: str = "invoice"

    def __post_init__(self) -> None:
        self.state = hogia.seeded_state(seed=self.seed)

    def app(self) -> Any:
        return hogia.create_app(self.state)

    def side(self, web_url: str, store: Store, connection: str) -> dict[str, Any]:
        return {"system": "hogia", "url": self.url, "client_id": self.state.client_id,
                "client_secret": self.state.client_secret, "organization_id": self.state.organization_id}  # fmt: skip

    def duplicates(self) -> int:
        return _doubled(hogia.documents_by_reference(self.state))


@dataclass
class MamutDemo:
    """A Mamut company folder with its watcher, and the agent as the merchant would run it."""

    seed: int
    system: str = "mamut"
    document: str = "order"  # Mamut takes web orders as orders; invoicing happens in Mamut

    def __post_init__(self) -> None:
        self.state = mamut.seeded_state(seed=self.seed)
        self.folder = Path(tempfile.mkdtemp(prefix="shopbridge-demo-mamut-"))
        self.runner = mamut.create_app(self.state, self.folder / "company", poll_seconds=0.2)
        self.token = ""
        self.agent: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.runner.start()
        return f"folder {self.runner.directory}"

    def side(self, web_url: str, store: Store, connection: str) -> dict[str, Any]:
        self.token = store.agents.issue_token(connection)
        return {"system": "mamut", "url": web_url, "agent_token": self.token, "confirm_seconds": 5,
                "poll_seconds": 0.2}  # fmt: skip

    def serving(self, web_url: str) -> None:
        command = [sys.executable, "-m", "shopbridge.agent", "run", "--url", web_url,
                   "--mamut-dir", str(self.runner.directory), "--state-dir", str(self.folder / "agent"),
                   "--poll-seconds", "0.2", "--long-poll-seconds", "2", "--heartbeat-seconds", "5"]  # fmt: skip
        log = (self.folder / "agent.log").open("ab")
        env = {**os.environ, "SHOPBRIDGE_AGENT_TOKEN": self.token}
        self.agent = subprocess.Popen(command, stdout=log, stderr=log, env=env)

    def stop(self) -> None:
        if self.agent is not None and self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.agent.kill()
        self.runner.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def duplicates(self) -> int:
        with self.state.lock:
            externals = [order.external_number for order in self.state.orders.values()]
        return len(externals) - len(set(externals))


DEMO_SHOPS: dict[str, type[PrestaShopDemo] | type[StarwebDemo] | type[NorceDemo]] = {
    "prestashop": PrestaShopDemo,
    "starweb": StarwebDemo,
    "norce": NorceDemo,
}
DEMO_ERPS: dict[str, type[EconomicDemo] | type[HogiaDemo] | type[MamutDemo]] = {
    "economic": EconomicDemo,
    "hogia": HogiaDemo,
    "mamut": MamutDemo,
}


def demo_shop(system: str, seed: int) -> DemoShop:
    if system not in DEMO_SHOPS:
        raise ValueError(f"no demo shop {system!r}; choose one of {', '.join(DEMO_SHOPS)}")
    return DEMO_SHOPS[system](seed)


def demo_erp(system: str, seed: int) -> DemoErp:
    if system not in DEMO_ERPS:
        raise ValueError(f"no demo ERP {system!r}; choose one of {', '.join(DEMO_ERPS)}")
    return DEMO_ERPS[system](seed)
