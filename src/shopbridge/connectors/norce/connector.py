"""Norce Commerce as an order source: each channel (application) is a shop; orders read from the Query API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from shopbridge.connectors.base import Capabilities, ConnectorSettings, OrderSummary, histories_one_by_one
from shopbridge.connectors.calls import RateBudget, RateWindow, account_gate
from shopbridge.connectors.norce.client import NorceClient
from shopbridge.connectors.norce.paging import merged, pages_of, stream
from shopbridge.connectors.norce.translate import (
    OrderHint,
    changed_at,
    channels_clause,
    checked_order_number,
    never_updated_filter,
    order_from_norce,
    push_hint,
    quoted,
    reading,
    status_path,
    summary_from_norce,
    updated_filter,
)
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import Order, OrderState

SYSTEM = "norce"
Payload = dict[str, Any]
ORDER_EXPAND = "Items,Buyer"
SUMMARY_SELECT = "Id,OrderNo,ApplicationId,StatusId,Created,Updated"


class NorceChannel(BaseModel):
    """One application (market × shop) read as one ShopBridge shop."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_id: int = Field(ge=1)
    application_key: str = ""  # the GUID pushed orders carry in Header.ApplicationKey
    timezone: str = "Europe/Stockholm"
    state_map: dict[str, OrderState] = {}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        return timezone


class NorceSettings(ConnectorSettings):
    """One Norce OAuth integration user and the channels it reads (the `[shop]` table)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    system: Literal["norce"] = "norce"
    url: str  # https://{slug}.api-{region}[.{env}].norce.tech
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    environment: str = "prod"  # the token scope (spec §1)
    channels: list[NorceChannel] = Field(min_length=1)
    page_size: int = Field(default=100, ge=1, le=500)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Lowers the budget below the connector's default (`[shop.rate_limit] requests, seconds`).
    rate_limit: RateWindow | None = None
    secret_fields: ClassVar[tuple[str, ...]] = ("client_secret",)

    @field_validator("url")
    @classmethod
    def _host_root(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be the http(s) address of the Norce API host")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("url must not carry credentials, a query or a fragment")
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))

    @field_validator("channels")
    @classmethod
    def _distinct(cls, channels: list[NorceChannel]) -> list[NorceChannel]:
        if len({channel.application_id for channel in channels}) != len(channels):
            raise ValueError("each channel (application_id) may be listed once")
        return channels


class NorceConnector:
    """Reads orders of the configured channels from Norce Commerce Query 2.0."""

    system: ClassVar[str] = "norce"
    capabilities: ClassVar[Capabilities] = Capabilities(variants=True, price_lists=True, multishop=True, webhooks=True)
    cursor_field: ClassVar[str] = "Updated"

    # Norce publishes limits for its token endpoint only (3 a minute, burst 20; the client caches
    # its token); the Query API answers 429 past unpublished numbers: 10 a second is a guess.
    published_limits: ClassVar[tuple[RateWindow, ...]] = (RateWindow(requests=10, seconds=1),)

    def __init__(
        self, settings: NorceSettings, http: httpx.AsyncClient | None = None, budget: RateBudget | None = None
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout_seconds)
        secret = settings.client_secret.get_secret_value()
        credentials = (settings.client_id, secret)
        gate = account_gate(SYSTEM, settings.url, credentials, self.published_limits, settings.rate_limit, budget)
        self.client = NorceClient(
            self._http, settings.url, settings.client_id, secret, settings.environment, gate=gate
        )
        self._channels = {str(channel.application_id): channel for channel in settings.channels}
        self._context = settings.channels[0].application_id
        self._currencies: dict[int, str] = {}
        self._countries: dict[int, str] = {}

    @property
    def application_ids(self) -> list[int]:
        return [channel.application_id for channel in self.settings.channels]

    async def check(self) -> None:
        """Fetch a token and read one order of the channels: proves host, credentials and rights."""
        try:
            await self.client.query_orders(self._context, {"$filter": channels_clause(self.application_ids),
                                                           "$select": "Id", "$top": "1"})  # fmt: skip
        except DataError as exc:
            message = f"{self.settings.url} does not answer as the Norce Query API: {exc.message}"
            raise ConfigError(message, SYSTEM, "check", exc.status, exc.body_excerpt) from exc

    async def order_changes(self, since: datetime, until: datetime) -> AsyncIterator[list[OrderSummary]]:
        """Pages of orders of every channel changed in [since, until], oldest first."""
        if since.tzinfo is None or until.tzinfo is None or since > until:
            raise ValueError("order_changes needs aware datetimes with since <= until")
        apps = self.application_ids
        changed = self._rows(updated_filter(apps, since, until), "Updated,Id")
        fresh = self._rows(never_updated_filter(apps, since, until), "Created,Id")
        async for page in pages_of(merged(changed, fresh, _change_key), self.settings.page_size):
            yield [summary_from_norce(row) for row in page]

    def _rows(self, odata_filter: str, orderby: str) -> AsyncIterator[Payload]:
        params = {"$filter": odata_filter, "$orderby": orderby, "$select": SUMMARY_SELECT,
                  "$top": str(self.settings.page_size)}  # fmt: skip

        async def fetch(next_link: str | None, skip: int) -> Payload:
            if next_link is not None:
                return await self.client.follow(self._context, next_link)
            return await self.client.query_orders(self._context, {**params, "$skip": str(skip)})

        return stream(fetch, self.settings.page_size)

    async def get_order(self, order_id: str) -> Order:
        """The whole order in one Query call (`$expand=Items,Buyer`) plus code tables read once."""
        row = await self._order_row(order_id, {"$expand": ORDER_EXPAND})
        channel = self._channels[str(row.get("ApplicationId"))]
        await self._load_lookups()
        return order_from_norce(row, self._currencies, self._countries, channel.timezone, channel.state_map)

    async def status_history(self, order_id: str) -> list[str]:
        """The statuses the order must have passed to reach its current one (the Query API keeps none)."""
        row = await self._order_row(order_id, {"$select": SUMMARY_SELECT})
        return status_path(summary_from_norce(row).status)

    async def status_histories(self, order_ids: Sequence[str]) -> dict[str, list[str]]:
        """No batched read of statuses exists: one order at a time."""
        return await histories_one_by_one(self, order_ids)

    def order_hint(self, payload: object) -> OrderHint:
        """The (channel, order number) a pushed OrderRequest names; the order itself is read back."""
        keys = {channel.application_key: str(channel.application_id) for channel in self.settings.channels
                if channel.application_key}  # fmt: skip
        return push_hint(payload, keys)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _order_row(self, order_id: str, options: dict[str, str]) -> Payload:
        number = checked_order_number(str(order_id))
        odata_filter = f"OrderNo eq {quoted(number)} and {channels_clause(self.application_ids)}"
        try:
            page = await self.client.query_orders(self._context, {"$filter": odata_filter, "$top": "2", **options})
        except DataError as exc:
            message = f"order {number}: {exc.message}"
            raise DataError(message, SYSTEM, "get_order", exc.status, exc.body_excerpt) from exc
        found = page["value"]
        if len(found) != 1 or not isinstance(found[0], dict):
            problem = "not found in the configured channels" if not found else "matches more than one order"
            raise DataError(f"order {number}: {problem}", SYSTEM, "get_order")
        row: Payload = found[0]
        with reading(f"order {number}"):
            if str(row.get("ApplicationId")) not in self._channels:
                raise ValueError(f"belongs to channel {str(row.get('ApplicationId'))[:12]}, which is not configured")
        return row

    async def _load_lookups(self) -> None:
        """Currency and country ids are tenant-wide codes (spec §2b); read once per connector."""
        if not self._currencies:
            self._currencies = _codes(await self.client.lookup(self._context, "Core/Currencies"))
        if not self._countries:
            self._countries = _codes(await self.client.lookup(self._context, "Core/Countries"))


def _change_key(row: Payload) -> tuple[datetime, str]:
    with reading(f"order {str(row.get('OrderNo'))[:40]}", "order_changes"):
        return changed_at(row), str(row.get("OrderNo"))


def _codes(rows: list[Payload]) -> dict[int, str]:
    return {int(row["Id"]): str(row["Code"]) for row in rows if isinstance(row.get("Id"), int) and row.get("Code")}
