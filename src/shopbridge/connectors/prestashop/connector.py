"""PrestaShop as an order source: changed orders by `date_upd`, whole orders by id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import ConfigDict, Field, SecretStr, field_validator

from shopbridge.connectors.base import Capabilities, ConnectorSettings, OrderSummary
from shopbridge.connectors.cache import TimedCache
from shopbridge.connectors.calls import RateBudget, RateWindow, account_gate
from shopbridge.connectors.joined_reads import JoinedReads
from shopbridge.connectors.prestashop.client import PrestaShopClient
from shopbridge.connectors.prestashop.paging import MIN_PAGE_SIZE, OverlappingOffsetPaging
from shopbridge.connectors.prestashop.translate import (
    identifier,
    local_window,
    order_from_prestashop,
    reading,
    summaries_in_window,
    text,
)
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import Order, OrderState

SYSTEM = "prestashop"
# Order ids per batched history read: keeps the URL well inside common server limits.
HISTORY_BATCH = 100
# Records per joined read (orders, their lines, customers, addresses): as many as one worker's
# transfers can be waiting for at once, and a URL well inside common server limits.
JOINED_READ_LIMIT = 50
NOT_FOUND = 404
Payload = dict[str, Any]


class PrestaShopSettings(ConnectorSettings):
    """One PrestaShop webservice account (the `[shop]` table of a connection)."""

    # A bad key or a URL with credentials in it must not be echoed into error messages.
    model_config = ConfigDict(hide_input_in_errors=True)

    system: Literal["prestashop"] = "prestashop"
    url: str
    key: SecretStr
    timezone: str = "Europe/Copenhagen"
    shop_id: int | None = Field(default=None, ge=1)
    page_size: int = Field(default=100, ge=MIN_PAGE_SIZE, le=1000)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    state_map: dict[str, OrderState] = {}
    # Replaces the connector's default of 10 calls a second (`[shop.rate_limit] requests, seconds`),
    # lower or higher: PrestaShop publishes no limit, the server is the merchant's own.
    rate_limit: RateWindow | None = None
    # Currencies, carriers and countries change rarely: an hour-old copy is good enough for labels
    # and ISO codes, and an id not seen yet is always read at once.
    reference_ttl_seconds: float = Field(default=3600.0, ge=0)
    secret_fields: ClassVar[tuple[str, ...]] = ("key",)

    @field_validator("url")
    @classmethod
    def _api_root(cls, url: str) -> str:
        """Accept the shop root or its `/api/` root; keep the `/api/` form (spec §1)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be the http(s) address of the shop")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("url must not carry credentials, a query or a fragment (the key has its own field)")
        path = parts.path.rstrip("/")
        path = path if path.endswith("/api") else path + "/api"
        return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))

    @field_validator("key")
    @classmethod
    def _usable_key(cls, key: SecretStr) -> SecretStr:
        value = key.get_secret_value()
        # The key is the Basic-auth user name, which cannot hold a colon (spec §2).
        if not value or ":" in value or value != value.strip():
            raise ValueError("key must be the webservice key: non-empty, no colon, no surrounding spaces")
        return key

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        return timezone


@dataclass(frozen=True)
class OrderRecords:
    """Everything `orders/{id}` points to that the canonical order needs."""

    details: list[Payload]
    customer: Payload
    delivery_address: Payload
    invoice_address: Payload


class PrestaShopConnector:
    """Reads orders from a PrestaShop 1.6/1.7/8 webservice."""

    system: ClassVar[str] = "prestashop"
    capabilities: ClassVar[Capabilities] = Capabilities(variants=True, price_lists=True, multishop=True)
    cursor_field: ClassVar[str] = "date_upd"
    # PrestaShop publishes no limit: the shop is self-hosted, often on a small shared host. Ten
    # calls a second keeps a transfer fast while leaving the shop's own visitors room; a merchant
    # whose server takes more says so in the connection.
    published_limits: ClassVar[tuple[RateWindow, ...]] = ()
    default_limit: ClassVar[RateWindow] = RateWindow(requests=10, seconds=1)

    def __init__(
        self, settings: PrestaShopSettings, http: httpx.AsyncClient | None = None, budget: RateBudget | None = None
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout_seconds)
        key = settings.key.get_secret_value()
        credentials = (key,)
        window = settings.rate_limit or self.default_limit
        gate = account_gate(SYSTEM, settings.url, credentials, self.published_limits, window, budget)
        self.client = PrestaShopClient(self._http, settings.url, key, settings.shop_id, gate)
        ttl = settings.reference_ttl_seconds
        self._country_iso: TimedCache[str, str] = TimedCache(ttl)
        self._currency_iso: TimedCache[str, str] = TimedCache(ttl)
        self._carrier_names: TimedCache[str, str] = TimedCache(ttl)
        # Transfers waiting for the shop's budget together read their orders' records together.
        self._orders = JoinedReads(self.client.get_orders, _not_in_shop("order"), JOINED_READ_LIMIT)
        self._details = JoinedReads(self.client.list_details_of_orders, _not_in_shop("order"), JOINED_READ_LIMIT)
        self._customers = JoinedReads(self.client.get_customers, _not_in_shop("customer"), JOINED_READ_LIMIT)
        self._addresses = JoinedReads(self.client.get_addresses, _not_in_shop("address"), JOINED_READ_LIMIT)

    async def check(self) -> None:
        """Read one order id: proves the URL, the key and its right to read orders."""
        try:
            await self.client.list_order_ids(0, 1)
        except DataError as exc:
            # At set-up time a 404 or a non-JSON page means the URL (or shop id) is wrong.
            message = f"{self.settings.url} does not answer as a PrestaShop webservice: {exc.message}"
            raise ConfigError(message, SYSTEM, "check", exc.status, exc.body_excerpt) from exc

    async def order_changes(self, since: datetime, until: datetime) -> AsyncIterator[list[OrderSummary]]:
        """Pages of orders whose `date_upd` lies in [since, until], oldest first."""
        if since.tzinfo is None or until.tzinfo is None or since > until:
            raise ValueError("order_changes needs aware datetimes with since <= until")
        zone = self.settings.timezone
        low, high = local_window(since, until, zone)
        paging = OverlappingOffsetPaging(self.settings.page_size)
        while not paging.finished:
            offset = paging.next_offset()
            rows = await self.client.list_orders(low, high, offset, self.settings.page_size)
            fresh = rows[paging.fresh([str(row.get("id")) for row in rows])]
            summaries = summaries_in_window(fresh, since, until, zone)
            if summaries:
                yield summaries

    async def get_order(self, order_id: str) -> Order:
        """The whole order; DataError naming the order when any part of it cannot be read."""
        number = _order_number(order_id)
        try:
            order = await self._orders.get(number)
            records = await self._order_records(number, order)
            currency = await self._currency(order)
            carrier = await self._carrier(order)
            countries = await self._countries(records.delivery_address, records.invoice_address)
        except DataError as exc:
            message = f"order {order_id}: {exc.message}"
            raise DataError(message, SYSTEM, "get_order", exc.status, exc.body_excerpt) from exc
        return order_from_prestashop(
            order,
            records.details,
            records.customer,
            records.delivery_address,
            records.invoice_address,
            country_iso=countries,
            currency_iso=currency,
            carrier_name=carrier,
            timezone=self.settings.timezone,
            state_map=self.settings.state_map,
        )

    async def status_history(self, order_id: str) -> list[str]:
        """Every status the order has had, oldest first, read from its order_histories."""
        histories = await self.client.list_order_histories(_order_number(order_id))
        return [str(row.get("id_order_state", "")) for row in histories]

    async def status_histories(self, order_ids: Sequence[str]) -> dict[str, list[str]]:
        """Every status of each order, oldest first, in one order_histories call per 100 orders."""
        numbers = [_order_number(order_id) for order_id in order_ids]
        found: dict[str, list[str]] = {}
        for start in range(0, len(numbers), HISTORY_BATCH):
            for row in await self.client.list_histories_of_orders(numbers[start : start + HISTORY_BATCH]):
                found.setdefault(str(row.get("id_order", "")), []).append(str(row.get("id_order_state", "")))
        return found

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _order_records(self, number: int, order: Payload) -> OrderRecords:
        with reading(""):
            customer_id = int(identifier(order, "id_customer"))
            delivery_id = int(identifier(order, "id_address_delivery"))
            invoice_id = int(identifier(order, "id_address_invoice"))
        # Most orders ship and bill to one address: read it once.
        addresses = list(dict.fromkeys((delivery_id, invoice_id)))
        details, customer, read = await asyncio.gather(
            self._details.get(number),
            self._customers.get(customer_id),
            asyncio.gather(*(self._addresses.get(address_id) for address_id in addresses)),
        )
        by_id = dict(zip(addresses, read, strict=True))
        return OrderRecords(details, customer, by_id[delivery_id], by_id[invoice_id])

    async def _countries(self, *addresses: Payload) -> dict[str, str]:
        """ISO codes of the addresses' countries, each read when unknown or stale."""
        codes: dict[str, str] = {}
        for address in addresses:
            with reading("address"):
                country_id = identifier(address, "id_country")
            if country_id != "0":
                codes[country_id] = await self._iso_code(self._country_iso, "country", country_id)
        return codes

    async def _currency(self, order: Payload) -> str:
        with reading(""):
            currency_id = identifier(order, "id_currency")
        return await self._iso_code(self._currency_iso, "currency", currency_id)

    async def _iso_code(self, cache: TimedCache[str, str], node: str, record_id: str) -> str:
        async def read() -> str:
            record = await self.client.get_reference(node, int(record_id))
            with reading(f"{node} {record_id}"):
                return text(record, "iso_code")

        return await cache.fetch(record_id, read) or ""

    async def _carrier(self, order: Payload) -> str:
        """The carrier's name, only a label: a deleted or unreadable carrier leaves it empty."""
        with reading(""):
            carrier_id = identifier(order, "id_carrier")
        if carrier_id == "0":
            return ""

        async def read() -> str | None:
            try:
                carrier = await self.client.get_reference("carrier", int(carrier_id))
            except DataError:
                return None  # not remembered: a carrier restored in the shop is seen on the next order
            return str(carrier.get("name") or "")

        return await self._carrier_names.fetch(carrier_id, read) or ""


def _not_in_shop(node: str) -> Callable[[int], DataError]:
    """The error of a record a joined read's answer left out: what a GET of it alone answers, 404."""

    def missing(record_id: int) -> DataError:
        return DataError(f"the shop has no {node} {record_id}", SYSTEM, f"get_{node}", NOT_FOUND)

    return missing


def _order_number(order_id: str) -> int:
    """Order ids are positive integers; anything else never reaches a URL."""
    candidate = str(order_id).strip()
    if not candidate.isascii() or not candidate.isdigit() or int(candidate) == 0:
        raise DataError(f"order {str(order_id)[:40]!r}: not a PrestaShop order id", SYSTEM, "get_order")
    return int(candidate)
