"""Starweb as an order source: changed orders newest-first back to the cursor, whole orders in one call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import ConfigDict, Field, SecretStr, field_validator

from shopbridge.connectors.base import Capabilities, ConnectorSettings, OrderSummary, histories_one_by_one
from shopbridge.connectors.calls import RateBudget, RateWindow, account_gate
from shopbridge.connectors.starweb.client import StarwebClient
from shopbridge.connectors.starweb.paging import NewestFirstPaging, read_page
from shopbridge.connectors.starweb.translate import identifier, order_from_starweb, reading, summary_from_starweb
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import Order, OrderState

SYSTEM = "starweb"


class StarwebSettings(ConnectorSettings):
    """One Starweb API client (the `[shop]` table of a connection)."""

    # A secret or a URL with credentials in it must not be echoed into error messages.
    model_config = ConfigDict(hide_input_in_errors=True)

    system: Literal["starweb"] = "starweb"
    url: str
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: SecretStr
    # Starweb's `idCode` of the shop, the shop part of transfer ids and what webhooks name;
    # read from `GET /shop` when not given.
    shop_code: str | None = Field(default=None, min_length=1, max_length=64)
    timezone: str = "Europe/Stockholm"
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Lowers the budget below the connector's default (`[shop.rate_limit] requests, seconds`).
    rate_limit: RateWindow | None = None
    state_map: dict[str, OrderState] = {}
    secret_fields: ClassVar[tuple[str, ...]] = ("client_secret",)

    @field_validator("url")
    @classmethod
    def _api_root(cls, url: str) -> str:
        """Accept the shop root or its `/api/v2` root; keep the `/api/v2` form (spec §1)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be the http(s) address of the shop")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("url must not carry credentials, a query or a fragment")
        path = parts.path.rstrip("/")
        path = path if path.endswith("/api/v2") else path + "/api/v2"
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    @field_validator("client_secret")
    @classmethod
    def _usable_secret(cls, secret: SecretStr) -> SecretStr:
        value = secret.get_secret_value()
        if not value or value != value.strip():
            raise ValueError("client_secret must be non-empty without surrounding spaces")
        return secret

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        return timezone


class StarwebConnector:
    """Reads orders from the Starweb Shop API v2."""

    system: ClassVar[str] = "starweb"
    capabilities: ClassVar[Capabilities] = Capabilities(variants=True, price_lists=True, webhooks=True)
    cursor_field: ClassVar[str] = "modifiedAt"
    # Starweb's published limit: 1,000 requests per minute per shop (spec §2 rate limits).
    published_limits: ClassVar[tuple[RateWindow, ...]] = (RateWindow(requests=1000, seconds=60),)

    def __init__(
        self, settings: StarwebSettings, http: httpx.AsyncClient | None = None, budget: RateBudget | None = None
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout_seconds)
        secret = settings.client_secret.get_secret_value()
        credentials = (settings.client_id, secret)
        gate = account_gate(SYSTEM, settings.url, credentials, self.published_limits, settings.rate_limit, budget)
        self.client = StarwebClient(self._http, settings.url, settings.client_id, secret, gate=gate)
        self._shop_code = settings.shop_code

    async def check(self) -> None:
        """Read the shop's settings: proves the address and the credentials, and that a configured
        shop code is the shop's own (webhooks name the shop by it, so transfer ids must agree)."""
        try:
            shop = await self.client.get_shop()
        except DataError as exc:
            message = f"{self.settings.url} does not answer as a Starweb shop API: {exc.message}"
            raise ConfigError(message, SYSTEM, "check", exc.status, exc.body_excerpt) from exc
        code = shop_code(shop)
        if self._shop_code is not None and self._shop_code != code:
            message = f"shop_code is {self._shop_code!r} but the shop at {self.settings.url} is {code!r}"
            raise ConfigError(message, SYSTEM, "check")
        self._shop_code = code

    async def order_changes(self, since: datetime, until: datetime) -> AsyncIterator[list[OrderSummary]]:
        """Pages of orders whose `modifiedAt` lies in [since, until], oldest first.

        The list is read newest first back past `since` (paging.py), then handed out oldest first
        in pages of the server's size, so a cursor saved after each page never passes an order
        not yet handed out.
        """
        if since.tzinfo is None or until.tzinfo is None or since > until:
            raise ValueError("order_changes needs aware datetimes with since <= until")
        found, size = await self._changed_newest_first(since, until)
        # Sorted here rather than reversed: how Starweb orders rows changed in the same second is not documented.
        found.sort(key=lambda summary: (summary.updated_at, int(summary.id)))
        for start in range(0, len(found), size):
            yield found[start:start + size]

    async def _changed_newest_first(self, since: datetime, until: datetime) -> tuple[list[OrderSummary], int]:
        shop = await self._shop()
        paging = NewestFirstPaging()
        found: list[OrderSummary] = []
        size = 1
        while not paging.finished:
            page = read_page(await self.client.list_orders_by_modification(paging.next_page()))
            size = max(size, len(page.rows))
            # A row with an unreadable change time counts as changed at `until`: listed, then parked.
            summaries = [summary_from_starweb(row, shop, self.settings.timezone, until) for row in page.rows]
            fresh = paging.fresh([summary.id for summary in summaries])
            found += [s for s, new in zip(summaries, fresh, strict=True) if new and since <= s.updated_at <= until]
            paging.advance(page, reached_cursor=any(summary.updated_at < since for summary in summaries))
        return found, size

    async def get_order(self, order_id: str) -> Order:
        """The whole order with items, addresses, status and customer, read in one call."""
        number = _order_number(order_id)
        shop = await self._shop()
        try:
            payload = await self.client.get_order(number)
        except DataError as exc:
            message = f"order {order_id}: {exc.message}"
            raise DataError(message, SYSTEM, "get_order", exc.status, exc.body_excerpt) from exc
        return order_from_starweb(payload, shop, self.settings.timezone, self.settings.state_map)

    async def status_history(self, order_id: str) -> list[str]:
        """Starweb keeps no readable status history (spec §5 has no such resource): the current status."""
        payload = await self.client.get_order(_order_number(order_id))
        with reading(f"order {order_id}", "status_history"):
            return [identifier(payload, "statusId")]

    async def status_histories(self, order_ids: Sequence[str]) -> dict[str, list[str]]:
        """No batched read of statuses exists: one order at a time."""
        return await histories_one_by_one(self, order_ids)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _shop(self) -> str:
        if self._shop_code is None:
            self._shop_code = shop_code(await self.client.get_shop())
        return self._shop_code


def shop_code(shop: dict[str, object]) -> str:
    """The shop's `idCode` from `GET /shop` (spec §6 Shop)."""
    code = shop.get("idCode")
    if not isinstance(code, str) or not code.strip() or len(code.strip()) > 64:
        raise ConfigError("the shop's settings carry no usable idCode", SYSTEM, "check")
    return code.strip()


def _order_number(order_id: str) -> int:
    """Order ids are positive integers; anything else never reaches a URL."""
    candidate = str(order_id).strip()
    if not candidate.isascii() or not candidate.isdigit() or len(candidate) > 18 or int(candidate) == 0:
        raise DataError(f"order {str(order_id)[:40]!r}: not a Starweb order id", SYSTEM, "get_order")
    return int(candidate)


