"""The Starweb emulator's store: records in wire shape, OAuth2 tokens, the rate budget and webhook deliveries."""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shopbridge.sandbox.faults import FaultPlan

Record = dict[str, Any]

DEMO_CLIENT_ID = "shopbridge-demo-client"
DEMO_CLIENT_SECRET = "shopbridge-demo-secret"
DEMO_SHOP_CODE = "shopbridge-demo"
PAGE_SIZE = 100  # spec §4: server-defined, the examples show 100
TOKEN_TTL_SECONDS = 3600
RATE_LIMIT_PER_MINUTE = 1000  # spec §3: per user (here: per client id)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Token:
    client_id: str
    expires_at: datetime


@dataclass
class Delivery:
    """One webhook POST the emulator made, and how the receiver answered (0 = not reachable)."""

    url: str
    payload: Record
    status: int


@dataclass
class RateBudget:
    """A sliding one-minute window of request times per client."""

    per_minute: int = RATE_LIMIT_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    _calls: dict[str, deque[float]] = field(default_factory=dict)

    def spend(self, client_id: str) -> bool:
        """Count one request; False when the client already used its minute's budget."""
        now = self.clock()
        calls = self._calls.setdefault(client_id, deque())
        while calls and now - calls[0] >= 60:
            calls.popleft()
        if len(calls) >= self.per_minute:
            return False
        calls.append(now)
        return True


@dataclass
class StarwebState:
    """One Starweb shop. Amounts are Decimal, times aware UTC; `render` turns both into wire form."""

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    shop_code: str = DEMO_SHOP_CODE
    timezone: str = "Europe/Stockholm"
    base_currency: str = "DKK"
    country: str = "DK"
    page_size: int = PAGE_SIZE
    token_ttl: timedelta = timedelta(seconds=TOKEN_TTL_SECONDS)
    rate_limited: bool = False  # enforce the published rate limit only when asked
    rate_budget: RateBudget = field(default_factory=RateBudget)
    clock: Callable[[], datetime] = utc_now
    faults: FaultPlan = field(default_factory=FaultPlan)
    tokens: dict[str, Token] = field(default_factory=dict)
    shop: Record = field(default_factory=dict)
    currencies: dict[str, Record] = field(default_factory=dict)
    vat_rates: dict[str, Record] = field(default_factory=dict)
    payment_methods: dict[int, Record] = field(default_factory=dict)
    shipping_methods: dict[int, Record] = field(default_factory=dict)
    pricelists: dict[int, Record] = field(default_factory=dict)
    stock_locations: dict[int, Record] = field(default_factory=dict)
    order_statuses: dict[int, Record] = field(default_factory=dict)
    customers: dict[int, Record] = field(default_factory=dict)
    products: dict[int, Record] = field(default_factory=dict)
    orders: dict[int, Record] = field(default_factory=dict)
    webhooks: dict[int, Record] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, series: str) -> int:
        self._counters[series] = self._counters.get(series, 0) + 1
        return self._counters[series]

    def issue_token(self) -> tuple[str, int]:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = Token(self.client_id, self.clock() + self.token_ttl)
        return token, int(self.token_ttl.total_seconds())

    def token_client(self, token: str) -> str | None:
        """The client a live token belongs to; None for unknown or expired tokens."""
        found = self.tokens.get(token)
        if found is None or found.expires_at <= self.clock():
            return None
        return found.client_id

    def expire_tokens(self) -> None:
        """Make every issued token expired, as if its hour had passed."""
        for token in self.tokens.values():
            token.expires_at = self.clock() - timedelta(seconds=1)

    def sku_variant(self, sku: str) -> tuple[Record, Record] | None:
        """The product and variant selling `sku`."""
        for product in self.products.values():
            for variant in product["variants"]:
                if variant["sku"] == sku:
                    return product, variant
        return None
