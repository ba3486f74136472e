"""A Starweb emulator on a clock the tests set, remembering when each order really changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from shopbridge.connectors.starweb import StarwebConnector, StarwebSettings
from shopbridge.sandbox import starweb
from shopbridge.sandbox.faults import FaultPlan

WRONG_SECRET = "not-the-secret"
IN_PROCESS_URL = "http://shop.test"


@dataclass
class SetClock:
    """The emulator's clock: it says whatever the test last set."""

    now: datetime = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class EmulatedShop:
    """Implements the contract's `OrderSourceEmulator` over a seeded StarwebState."""

    state: starweb.StarwebState
    clock: SetClock
    changed: dict[str, datetime] = field(default_factory=dict)
    list_path: str = "/api/v2/orders"
    order_path: str = "/api/v2/orders/"

    @classmethod
    def seeded(cls, seed: int = 7, page_size: int = 100) -> EmulatedShop:
        clock = SetClock()
        state = starweb.seeded_state(seed=seed, clock=clock)
        state.page_size = page_size
        return cls(state, clock)

    @property
    def faults(self) -> FaultPlan:
        return self.state.faults

    def changes(self) -> Mapping[str, datetime]:
        return dict(self.changed)

    def place(self, at: datetime, lines: list[tuple[str, int]] | None = None, status: int = starweb.STATUS_CREATED,
              customer_email: str | None = None) -> str:  # fmt: skip
        self.clock.now = at
        order_id = starweb.place_order(self.state, customer_email=customer_email, lines=lines, status=status)
        self.changed[str(order_id)] = at
        return str(order_id)

    def set_status(self, order_id: str, status: int, at: datetime) -> None:
        self.clock.now = at
        starweb.set_order_status(self.state, int(order_id), status)
        self.changed[order_id] = at

    def in_process(self, secret: str = starweb.DEMO_CLIENT_SECRET, seen: list[httpx.Request] | None = None,
                   url: str = IN_PROCESS_URL, **settings: object) -> StarwebConnector:  # fmt: skip
        """A connector talking to the emulator through httpx's ASGI transport, no sockets; every
        request it sends is appended to `seen` when given."""

        async def record(request: httpx.Request) -> None:
            if seen is not None:
                seen.append(request)

        transport = httpx.ASGITransport(app=starweb.create_app(self.state))
        http = httpx.AsyncClient(transport=transport, event_hooks={"request": [record]})
        return StarwebConnector(self.settings(url, secret, **settings), http)

    def over_http(self, url: str, secret: str = starweb.DEMO_CLIENT_SECRET, **settings: object) -> StarwebConnector:
        """A connector with its own HTTP client, for an emulator served on loopback."""
        return StarwebConnector(self.settings(url, secret, timeout_seconds=5, **settings))

    def settings(self, url: str, secret: str, **settings: object) -> StarwebSettings:
        values = {"url": url, "client_id": self.state.client_id, "client_secret": secret, **settings}
        return StarwebSettings.model_validate(values)
