"""The Hogia Smart connector: a DocumentSink writing shop orders as customer invoices over Hogia's REST API."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import SecretStr, field_validator, model_validator

from shopbridge.connectors.base import Capabilities, ConnectorSettings, DocumentKind, DocumentRef
from shopbridge.connectors.calls import RateBudget, RateWindow, account_gate
from shopbridge.connectors.hogia.client import API_VERSION, HogiaClient
from shopbridge.connectors.hogia.translate import (
    ARTICLE_NUMBER_MAX,
    BOOKED,
    DRAFT,
    SYSTEM,
    VatCode,
    contact_to_hogia,
    document_ref_from_hogia,
    fee_article,
    invoice_to_hogia,
    organisation_number,
    vat_codes_from_hogia,
)
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import Customer, Order, OrderLineKind

PRODUCTION_URL = "https://api.hogia.se"
PRODUCTION_TOKEN_URL = "https://id.hogia.se/connect/token"  # spec §2, Auth
_RANK = {BOOKED: 0, DRAFT: 1}  # the document to keep first: booked before draft

LISTING_LAG_SECONDS = 3.0


class HogiaSettings(ConnectorSettings):
    """How to reach one Hogia organisation and which fee articles to book order amounts on."""

    system: Literal["hogia"] = "hogia"
    url: str = PRODUCTION_URL
    # Empty: id.hogia.se for the production API, else `{url}/connect/token` (the emulator).
    token_url: str = ""
    client_id: str
    client_secret: SecretStr
    organization_id: uuid.UUID
    api_version: str = API_VERSION
    freight_article: str = "fraktavg"
    handling_article: str = "expavg"
    discount_article: str = "rabatt"
    rounding_article: str = "oresavr"
    rounding_tolerance: Decimal = Decimal("1.00")
    page_size: int = 500
    timeout_seconds: float = 30.0
    # Lowers the budget below the connector's default (`[erp.rate_limit] requests, seconds`).
    rate_limit: RateWindow | None = None
    secret_fields: ClassVar[tuple[str, ...]] = ("client_secret",)

    @field_validator("client_id")
    @classmethod
    def _client_id_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("client_id is empty; use the Client ID of the Hogia API connection")
        return value.strip()

    @field_validator("client_secret")
    @classmethod
    def _secret_given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("client_secret is empty; use the Client Secret of the Hogia API connection")
        return value

    @field_validator("freight_article", "handling_article", "discount_article", "rounding_article")
    @classmethod
    def _article_number(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > ARTICLE_NUMBER_MAX:
            raise ValueError(f"a fee article number must be 1 to {ARTICLE_NUMBER_MAX} characters, got {value!r}")
        return value

    @model_validator(mode="after")
    def _distinct_articles(self) -> HogiaSettings:
        numbers = [self.freight_article, self.handling_article, self.discount_article, self.rounding_article]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"freight, handling, discount and rounding articles must differ, got {numbers}")
        return self

    def resolved_token_url(self) -> str:
        if self.token_url:
            return self.token_url
        url = self.url.rstrip("/")
        return PRODUCTION_TOKEN_URL if url == PRODUCTION_URL else f"{url}/connect/token"


class HogiaConnector:
    """Finds and creates contacts and customer invoices in a Hogia organisation (spec hogia-smart.md §2)."""

    system: ClassVar[str] = SYSTEM
    capabilities: ClassVar[Capabilities] = Capabilities(documents=frozenset({DocumentKind.INVOICE}))
    # Hogia answers 429 but publishes no numbers (spec "Pagination, limits, errors"); 10 a second
    # is a guess that a connection may lower.
    published_limits: ClassVar[tuple[RateWindow, ...]] = (RateWindow(requests=10, seconds=1),)

    def __init__(
        self, settings: HogiaSettings, http: httpx.AsyncClient | None = None, budget: RateBudget | None = None
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout_seconds)
        secret = settings.client_secret.get_secret_value()
        credentials = (settings.client_id, secret)
        gate = account_gate(SYSTEM, settings.url, credentials, self.published_limits, settings.rate_limit, budget)
        self.client = HogiaClient(
            self._http, settings.url, settings.resolved_token_url(), settings.client_id, secret,
            str(settings.organization_id), settings.api_version, settings.page_size, gate=gate,
        )  # fmt: skip
        # How soon a lost write shows in the real API's lists is unknown: the request's own timeout
        # plus a few seconds.
        self.settle_seconds = settings.timeout_seconds + LISTING_LAG_SECONDS
        self._articles: dict[str, bool] = {}  # article number → whether Hogia has it
        self._vat_codes: list[VatCode] | None = None

    async def check(self) -> None:
        """A token and the VAT codes; a 404 means the URL does not reach Hogia's API."""
        try:
            await self._codes()
        except DataError as error:
            message = f"{self.settings.url} does not answer like Hogia's API: {error.message}"
            raise ConfigError(message, system=SYSTEM, operation=error.operation, status=error.status) from error

    async def find_documents(self, reference: str, kind: DocumentKind) -> list[DocumentRef]:
        """Customer invoices carrying exactly `reference` in `externalReference`, booked first."""
        if kind is not DocumentKind.INVOICE:
            return []  # Hogia's API has no sales orders, so none can carry the reference
        found = [
            document_ref_from_hogia(payload)
            for payload in await self.client.find_invoices(reference)
            if _carries_reference(payload, reference)
        ]
        return sorted(found, key=lambda document: _RANK.get(document.kind, len(_RANK)))

    async def find_document(self, reference: str) -> DocumentRef | None:
        """The one document to keep for `reference`, or None."""
        found = await self.find_documents(reference, DocumentKind.INVOICE)
        return found[0] if found else None

    async def remove_document(self, document: DocumentRef) -> bool:
        """Delete a stray draft; a booked invoice cannot be deleted (only credited)."""
        if document.kind != DRAFT:
            return False
        try:
            await self.client.delete_invoice(document.extra.get("id", document.number))
        except DataError as error:
            return error.status == 404  # already gone; any other refusal leaves it where it is
        return True

    async def customer_exists(self, customer_id: str) -> bool:
        found = await self.client.find_contacts(number=customer_id)
        return any(str(item.get("number")) == customer_id for item in found)

    async def find_customer(self, customer: Customer) -> str | None:
        """By organisation number for companies that give one, else by e-mail; the lowest number wins."""
        org_number = organisation_number(customer.vat_number)
        if org_number:
            found = await self.client.find_contacts(identificationNumber=org_number)
            numbers = [str(item["number"]) for item in found if item.get("identificationNumber") == org_number]
            if numbers:
                return _lowest(numbers)
        found = await self.client.find_contacts(email=customer.email)
        return _lowest([str(item["number"]) for item in found if _email_of(item) == customer.email]) or None

    async def create_customer(self, customer: Customer, order: Order) -> str:
        created = await self.client.create_contact(contact_to_hogia(customer, order, str(uuid.uuid4())))
        number = created.get("number")
        if not number:
            raise DataError("Hogia created a contact without a number", system=SYSTEM)
        return str(number)

    async def missing_skus(self, skus: Iterable[str]) -> set[str]:
        return {sku for sku in dict.fromkeys(skus) if not await self._has_article(sku)}

    async def create_document(
        self, order: Order, customer_id: str, kind: DocumentKind, reference: str
    ) -> DocumentRef:
        if kind is not DocumentKind.INVOICE:
            message = "Hogia's API has no sales orders; set the connection's document to invoice"
            raise ConfigError(message, system=SYSTEM)
        await self._check_articles(order)
        body = invoice_to_hogia(order, customer_id, reference, self.settings, await self._codes(), str(uuid.uuid4()))
        return document_ref_from_hogia(await self.client.create_invoice(body))

    async def book_invoice(self, document: DocumentRef) -> DocumentRef:
        """Book a draft invoice; a booked one is returned as it is."""
        if document.kind == BOOKED:
            return document
        if document.kind != DRAFT:
            raise DataError(f"only a draft invoice can be booked, not a {document.kind}", system=SYSTEM)
        try:
            booked = await self.client.book_invoice(document.extra.get("id", document.number))
        except DataError:
            # The draft may be gone because it was booked and deleted from drafts some other way.
            earlier = await self.find_document(document.reference) if document.reference else None
            if earlier is None or earlier.kind != BOOKED:
                raise
            return earlier
        return document_ref_from_hogia(booked)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _codes(self) -> list[VatCode]:
        if self._vat_codes is None:
            self._vat_codes = vat_codes_from_hogia(await self.client.list_vat_codes())
        return self._vat_codes

    async def _has_article(self, number: str) -> bool:
        if number not in self._articles:
            found = await self.client.find_articles(number) if 0 < len(number) <= ARTICLE_NUMBER_MAX else []
            # The filter ignores case; only the exact number is the article.
            self._articles[number] = any(item.get("number") == number for item in found)
        return self._articles[number]

    async def _check_articles(self, order: Order) -> None:
        """Unknown products park the order; a missing fee article is the connection's fault."""
        skus = [line.sku for line in order.lines if line.kind is OrderLineKind.PRODUCT]
        missing = await self.missing_skus(skus)
        if missing:
            raise DataError(f"Hogia has no article for SKU {', '.join(sorted(missing))}", system=SYSTEM)
        kinds = {line.kind for line in order.lines} - {OrderLineKind.PRODUCT}
        fees = {fee_article(kind, self.settings) for kind in kinds}
        for number in sorted(fees | {self.settings.rounding_article}):
            if not await self._has_article(number):
                raise ConfigError(f"the fee article {number!r} does not exist in Hogia", system=SYSTEM)


def _carries_reference(payload: dict[str, Any], reference: str) -> bool:
    """Hogia's filter ignores case; only the exact value is ours. Fail closed when it is not shown."""
    header = payload.get("invoiceHeader")
    if not isinstance(header, dict) or "externalReference" not in header:
        raise DataError(
            f"Hogia listed invoice {payload.get('id')} for reference {reference!r} without showing its reference; "
            "cannot tell whether it is this order's",
            system=SYSTEM,
        )
    return str(header["externalReference"]) == reference


def _email_of(contact: dict[str, Any]) -> str:
    channels = contact.get("contactChannels") or []
    return next((str(item.get("value", "")).strip().lower() for item in channels
                 if isinstance(item, dict) and item.get("type") == "Email"), "")  # fmt: skip


def _lowest(numbers: list[str]) -> str:
    """Numeric numbers in numeric order before any others."""
    return min(numbers, key=lambda number: (not number.isdigit(), int(number) if number.isdigit() else 0, number),
               default="")  # fmt: skip
