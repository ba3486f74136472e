"""A PrestaShop emulator on a clock the tests set, remembering when each order really changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from shopbridge.connectors.prestashop import PrestaShopConnector, PrestaShopSettings
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.faults import FaultPlan

WRONG_KEY = "WRONGKEY" * 4
IN_PROCESS_URL = "http://shop.test"


@dataclass
class SetClock:
    """The emulator's clock: it says whatever the test last set."""

    now: datetime = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class EmulatedShop:
    """Implements the contract's `OrderSourceEmulator` over a seeded PrestaShopState."""

    state: prestashop.PrestaShopState
    clock: SetClock
    changed: dict[str, datetime] = field(default_factory=dict)
    list_path: str = "/api/orders"
    order_path: str = "/api/orders/"

    @classmethod
    def seeded(cls, seed: int = 7) -> EmulatedShop:
        clock = SetClock()
        state = prestashop.seeded_state(seed=seed)
        state.clock = clock
        return cls(state, clock)

    @property
    def faults(self) -> FaultPlan:
        return self.state.faults

    def changes(self) -> Mapping[str, datetime]:
        return dict(self.changed)

    def place(
        self,
        at: datetime,
        lines: list[tuple[str, int]] | None = None,
        status: int = 2,
        discount: str = "0",
        customer_email: str | None = None,
    ) -> str:
        self.clock.now = at
        order_id = prestashop.place_order(
            self.state, customer_email=customer_email, lines=lines, status=status, discount_percent=Decimal(discount)
        )
        self.changed[str(order_id)] = at
        return str(order_id)

    def set_status(self, order_id: str, status: int, at: datetime) -> None:
        self.clock.now = at
        prestashop.set_order_state(self.state, int(order_id), status)
        self.changed[order_id] = at

    def in_process(
        self, key: str = prestashop.DEMO_API_KEY, seen: list[httpx.Request] | None = None, **settings: object
    ) -> PrestaShopConnector:
        """A connector talking to the emulator through httpx's ASGI transport, no sockets; every
        request it sends is appended to `seen` when given."""

        async def record(request: httpx.Request) -> None:
            if seen is not None:
                seen.append(request)

        transport = httpx.ASGITransport(app=prestashop.create_app(self.state))
        http = httpx.AsyncClient(transport=transport, event_hooks={"request": [record]})
        values = {"url": IN_PROCESS_URL, "key": key, **settings}
        return PrestaShopConnector(PrestaShopSettings.model_validate(values), http)

    def over_http(self, url: str, key: str = prestashop.DEMO_API_KEY, **settings: object) -> PrestaShopConnector:
        """A connector with its own HTTP client, for an emulator served on loopback."""
        values = {"url": url, "key": key, "timeout_seconds": 5, **settings}
        return PrestaShopConnector(PrestaShopSettings.model_validate(values))
