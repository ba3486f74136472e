"""A Norce emulator on a clock the tests set, remembering when each order really changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from shopbridge.connectors.norce import NorceConnector, NorceSettings
from shopbridge.sandbox import norce
from shopbridge.sandbox.faults import FaultPlan

WRONG_SECRET = "not-the-secret"
IN_PROCESS_URL = "http://norce.test"
ORDERS_PATH = "/commerce/query/2.0/Orders/Orders"
DK, SE = 101, 102


@dataclass
class SetClock:
    now: datetime = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def channels(state: norce.NorceState) -> list[dict[str, Any]]:
    zones = {"DKK": "Europe/Copenhagen", "SEK": "Europe/Stockholm"}
    return [
        {"application_id": channel.id, "application_key": channel.key, "timezone": zones[channel.currency]}
        for channel in state.channels.values()
    ]


def settings_for(state: norce.NorceState, url: str, secret: str | None = None, **extra: object) -> NorceSettings:
    values = {"url": url, "client_id": state.client_id, "client_secret": secret or state.client_secret,
              "environment": state.environment, "channels": channels(state), **extra}  # fmt: skip
    return NorceSettings.model_validate(values)


@dataclass
class EmulatedNorce:
    """Implements the contract's `OrderSourceEmulator` over a seeded NorceState."""

    state: norce.NorceState
    clock: SetClock
    changed: dict[str, datetime] = field(default_factory=dict)
    list_path: str = ORDERS_PATH
    order_path: str = ORDERS_PATH

    @classmethod
    def seeded(cls, seed: int = 7) -> EmulatedNorce:
        clock = SetClock()
        state = norce.seeded_state(seed=seed)
        state.clock = clock
        return cls(state, clock)

    @property
    def faults(self) -> FaultPlan:
        return self.state.faults

    def changes(self) -> Mapping[str, datetime]:
        return dict(self.changed)

    def place(self, at: datetime, channel: int = DK, status: int = 2, **options: Any) -> str:
        self.clock.now = at
        order_no = norce.place_order(self.state, channel, status=status, **options)
        self.changed[order_no] = at
        return order_no

    def set_status(self, order_no: str, status: int, at: datetime) -> None:
        self.clock.now = at
        norce.set_order_status(self.state, order_no, status)
        self.changed[order_no] = at

    def in_process(
        self, secret: str | None = None, seen: list[httpx.Request] | None = None, **settings: object
    ) -> NorceConnector:
        async def record(request: httpx.Request) -> None:
            if seen is not None:
                seen.append(request)

        transport = httpx.ASGITransport(app=norce.create_app(self.state))
        http = httpx.AsyncClient(transport=transport, event_hooks={"request": [record]})
        return NorceConnector(settings_for(self.state, IN_PROCESS_URL, secret, **settings), http)

    def over_http(self, url: str, secret: str | None = None, **settings: object) -> NorceConnector:
        return NorceConnector(settings_for(self.state, url, secret, timeout_seconds=5, **settings))
