"""The e-conomic connector: a DocumentSink that writes shop orders as orders or invoices."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import SecretStr

from shopbridge.connectors.base import Capabilities, ConnectorSettings, DocumentKind, DocumentRef
from shopbridge.connectors.cache import TimedCache
from shopbridge.connectors.calls import RateBudget, RateWindow, account_gate
from shopbridge.connectors.economic.client import EconomicClient, escape_filter_value
from shopbridge.connectors.economic.translate import (
    SYSTEM,
    customer_to_economic,
    document_ref_from_economic,
    order_to_economic,
    product_number,
)
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import Customer, Order, OrderLineKind

PRODUCT_NUMBER_MAX = 25  # spec §6 products: productNumber is 1..25 characters
# A product's group rarely changes; one deleted since is caught by the create and forgotten.
PRODUCT_TTL_SECONDS = 3600.0
DRAFT_COLLECTION_OF_KIND = {"draft_invoice": "invoices/drafts", "order": "orders/drafts"}


class EconomicSettings(ConnectorSettings):
    """How to reach one e-conomic agreement and which of its numbers to write with."""

    system: Literal["economic"] = "economic"
    url: str = "https://restapi.e-conomic.com"
    app_secret_token: SecretStr
    agreement_grant_token: SecretStr
    layout_number: int = 19
    payment_terms_number: int = 1
    customer_group_domestic: int = 1
    customer_group_foreign: int = 2
    home_country: str = "DK"
    vat_zone_domestic: int = 1
    vat_zone_eu: int = 2
    vat_zone_abroad: int = 3
    shipping_product: str = "SHIPPING"
    fee_product: str = "FEE"
    discount_product: str = "DISCOUNT"
    # VAT percent ("0", "12", "6") → discount product in a group of that rate; others use discount_product.
    discount_products_by_vat: dict[str, str] = {}
    rounding_product: str = "ROUNDING"
    rounding_tolerance: Decimal = Decimal("1.00")
    vat_rates_by_product_group: dict[int, Decimal] = {
        1: Decimal("0.25"),
        2: Decimal("0"),
        3: Decimal("0.25"),
        4: Decimal("0"),
    }
    page_size: int = 1000
    timeout_seconds: float = 30.0
    # e-conomic has no idempotency key; under load a POST that timed out on our side can commit
    # seconds later, and a new document reaches filtered lists later still.
    commit_lag_seconds: float = 10.0
    # Lowers the budget below the connector's default (`[erp.rate_limit] requests, seconds`).
    rate_limit: RateWindow | None = None
    secret_fields: ClassVar[tuple[str, ...]] = ("app_secret_token", "agreement_grant_token")


class EconomicConnector:
    """Finds and creates customers, order drafts and invoices in e-conomic (spec §5, §6)."""

    system: ClassVar[str] = SYSTEM
    capabilities: ClassVar[Capabilities] = Capabilities(
        documents=frozenset({DocumentKind.ORDER, DocumentKind.INVOICE})
    )
    # Where a document of each kind may be by now, the most advanced state first, so that a
    # booked invoice wins over a draft that a racing writer left behind. Only these are searched:
    # an app role without access to orders answers 403 on `orders/*` (spec §2 roles).
    document_collections: ClassVar[dict[DocumentKind, tuple[str, ...]]] = {
        DocumentKind.INVOICE: ("invoices/booked", "invoices/drafts"),
        DocumentKind.ORDER: ("orders/archived", "orders/sent", "orders/drafts"),
    }
    draft_collections: ClassVar[dict[DocumentKind, str]] = {
        DocumentKind.ORDER: "orders/drafts",
        DocumentKind.INVOICE: "invoices/drafts",
    }

    # Spec §5: fair use is 50,000 calls per agreement a day; the token bucket rolled out in 2025
    # publishes no numbers, so twenty calls a second is our own choice beneath it.
    published_limits: ClassVar[tuple[RateWindow, ...]] = (
        RateWindow(requests=20, seconds=1),
        RateWindow(requests=50_000, seconds=86_400),
    )

    def __init__(
        self, settings: EconomicSettings, http: httpx.AsyncClient | None = None, budget: RateBudget | None = None
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout_seconds)
        self.settle_seconds = settings.timeout_seconds + settings.commit_lag_seconds
        secret, grant = settings.app_secret_token.get_secret_value(), settings.agreement_grant_token.get_secret_value()
        credentials = (secret, grant)
        gate = account_gate(SYSTEM, settings.url, credentials, self.published_limits, settings.rate_limit, budget)
        self.client = EconomicClient(self._http, settings.url, secret, grant, page_size=settings.page_size, gate=gate)
        # Product number → product group of products known to exist. A missing product is never
        # remembered, so a product created after a parked order is seen on its retry at once.
        self._product_groups: TimedCache[str, int] = TimedCache(PRODUCT_TTL_SECONDS)

    async def check(self) -> None:
        """`GET /self` (spec §2); any answer but agreement info means the connection is set up wrong."""
        try:
            await self.client.get_self()
        except DataError as error:
            message = f"{self.settings.url} does not answer like e-conomic: {error.message}"
            raise ConfigError(message, system=SYSTEM, operation=error.operation, status=error.status) from error

    async def find_documents(self, reference: str, kind: DocumentKind) -> list[DocumentRef]:
        """Documents carrying exactly `reference` in `references.other` (spec §5, idempotency)."""
        found: list[DocumentRef] = []
        for collection in self.document_collections[kind]:
            for payload in await self.client.find_documents(collection, reference):
                if _carries_reference(payload, reference):
                    found.append(document_ref_from_economic(collection, payload))
        return found

    async def remove_document(self, document: DocumentRef) -> bool:
        """Delete a draft (spec §6); booked invoices and sent or archived orders stay."""
        collection = DRAFT_COLLECTION_OF_KIND.get(document.kind)
        if collection is None:
            return False
        await self.client.delete_document(collection, int(document.number))
        return True

    async def customer_exists(self, customer_id: str) -> bool:
        return await self.client.get_customer(_customer_number(customer_id)) is not None

    async def find_customer(self, customer: Customer) -> str | None:
        """The customer with this email; the lowest number wins when there are several."""
        found = await self.client.find_customers(f"email$eq:{escape_filter_value(customer.email)}")
        numbers = [int(item["customerNumber"]) for item in found if "customerNumber" in item]
        return str(min(numbers)) if numbers else None

    async def create_customer(self, customer: Customer, order: Order) -> str:
        created = await self.client.create_customer(customer_to_economic(customer, order, self.settings))
        return str(created["customerNumber"])

    async def missing_skus(self, skus: Iterable[str]) -> set[str]:
        return {sku for sku in dict.fromkeys(skus) if await self._product_group(sku) is None}

    async def create_document(
        self, order: Order, customer_id: str, kind: DocumentKind, reference: str
    ) -> DocumentRef:
        if kind not in self.draft_collections:
            raise ConfigError(f"e-conomic cannot write a {kind} document", system=SYSTEM)
        body = order_to_economic(
            order, _customer_number(customer_id), reference, self.settings, await self._groups_for(order)
        )
        collection = self.draft_collections[kind]
        try:
            if kind is DocumentKind.INVOICE:
                created = await self.client.create_invoice_draft(body)
            else:
                created = await self.client.create_order_draft(body)
        except DataError:
            # A product deleted since we saw it is read again on the retry.
            self._forget_products(order)
            raise
        return document_ref_from_economic(collection, created)

    async def book_invoice(self, document: DocumentRef) -> DocumentRef:
        """Book a draft invoice; a booked one is returned as it is (spec §6 booking)."""
        if document.kind == "booked_invoice":
            return document
        if document.kind != "draft_invoice":
            raise DataError(f"only a draft invoice can be booked, not a {document.kind}", system=SYSTEM)
        try:
            booked = await self.client.book_invoice(int(document.number))
        except DataError:
            # The draft may be gone because an earlier attempt booked it and lost the answer.
            found = await self.find_documents(document.reference, DocumentKind.INVOICE) if document.reference else []
            if not found or found[0].kind != "booked_invoice":
                raise
            return found[0]
        return document_ref_from_economic("invoices/booked", booked)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _product_group(self, number: str) -> int | None:
        return await self._product_groups.fetch(number, lambda: self._fetch_product_group(number))

    def _forget_products(self, order: Order) -> None:
        for number in {line.sku for line in order.lines} | {number for _, number in self._configured_products(order)}:
            self._product_groups.forget(number)

    async def _fetch_product_group(self, number: str) -> int | None:
        if not number or len(number) > PRODUCT_NUMBER_MAX:
            return None  # e-conomic cannot hold such a product number
        product = await self.client.get_product(number)
        if product is None:
            return None
        group = product.get("productGroup")
        return int(group.get("productGroupNumber", 0)) if isinstance(group, dict) else 0

    async def _groups_for(self, order: Order) -> dict[str, int]:
        """Product groups of every product the document will use; unknown products are refused."""
        skus = [line.sku for line in order.lines if line.kind is OrderLineKind.PRODUCT]
        missing = await self.missing_skus(skus)
        if missing:
            raise DataError(f"e-conomic has no product for SKU {', '.join(sorted(missing))}", system=SYSTEM)
        groups: dict[str, int] = {}
        for sku in skus:
            groups[sku] = await self._product_group(sku) or 0
        for product_kind, number in self._configured_products(order):
            group = await self._product_group(number)
            if group is None:
                raise ConfigError(f"the {product_kind} product {number!r} does not exist in e-conomic", system=SYSTEM)
            groups[number] = group
        rounding = await self._product_group(self.settings.rounding_product)
        if rounding is not None:
            groups[self.settings.rounding_product] = rounding
        return groups

    def _configured_products(self, order: Order) -> list[tuple[str, str]]:
        used = (line for line in order.lines if line.kind is not OrderLineKind.PRODUCT)
        found = dict.fromkeys((line.kind.value, product_number(line, self.settings)) for line in used)
        return list(found)


def _carries_reference(payload: dict[str, Any], reference: str) -> bool:
    """e-conomic compares filter strings case-insensitively (spec §3); we need the exact value."""
    references = payload.get("references")
    # Fail closed: a document that does not show our reference is not proven ours.
    return isinstance(references, dict) and str(references.get("other", "")) == reference


def _customer_number(customer_id: str) -> int:
    if not customer_id.strip().isdigit():
        raise DataError(f"{customer_id!r} is not an e-conomic customer number", system=SYSTEM)
    return int(customer_id)
