"""The Mamut connector: a DocumentSink whose documents reach Mamut through the on-premises agent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import SecretStr, field_validator

from shopbridge.connectors.base import Capabilities, ConnectorSettings, DocumentKind, DocumentRef
from shopbridge.connectors.calls import RateBudget
from shopbridge.connectors.mamut.client import MamutClient
from shopbridge.connectors.mamut.translate import (
    SYSTEM,
    ExportedCustomer,
    ExportedOrder,
    MamutLineCodes,
    customer_to_mamut,
    customers_from_mamut,
    order_to_mamut,
    orders_from_mamut,
    product_numbers_from_mamut,
)
from shopbridge.errors import ConfigError, DataError, TransientError
from shopbridge.model import Customer, Order, OrderLineKind

# Most advanced first: an order someone has invoiced wins over a stray unprocessed one.
STATUS_RANK = {"INVOICED": 0, "DELIVERED": 1, "ORDER": 2, "UNPROCESSED": 3}
DOCUMENT_KIND = "order"


class MamutSettings(ConnectorSettings):
    """How to reach a Mamut company: ShopBridge's agent API and the token issued for this connection."""

    system: Literal["mamut"] = "mamut"
    url: str = "http://127.0.0.1:8000"
    agent_token: SecretStr
    shipping_product: str = "FRAKT"
    fee_product: str = "GEBYR"
    discount_product: str = "RABATT"
    rounding_product: str = "AVRUND"
    rounding_tolerance: Decimal = Decimal("1.00")
    warehouse: int = 1
    vat_codes: dict[Decimal, int] = {Decimal("0.25"): 3, Decimal("0"): 1, Decimal("0.15"): 5, Decimal("0.12"): 6}
    confirm_seconds: float = 60.0  # how long a write waits for the agent before it is retried
    poll_seconds: float = 0.5
    timeout_seconds: float = 30.0
    secret_fields: ClassVar[tuple[str, ...]] = ("agent_token",)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must be ShopBridge's own http(s) address the agent connects to, not {url!r}")
        return url

    @field_validator("agent_token")
    @classmethod
    def _token(cls, token: SecretStr) -> SecretStr:
        value = token.get_secret_value()
        if len(value) < 20 or any(char.isspace() for char in value):
            raise ValueError("agent_token must be the token `shopbridge agent token CONNECTION` printed")
        return token


class MamutConnector:
    """Writes shop orders as unprocessed Mamut orders via the agent; reads Mamut's exports back (spec §2)."""

    system: ClassVar[str] = SYSTEM
    capabilities: ClassVar[Capabilities] = Capabilities(documents=frozenset({DocumentKind.ORDER}))
    # The agent re-sends its exports after every import; a lost answer shows there within seconds.
    settle_seconds: float = 5.0

    def __init__(
        self, settings: MamutSettings, http: httpx.AsyncClient | None = None, budget: RateBudget | None = None
    ) -> None:
        # `budget` is unused: the agent API is ShopBridge's own, and Mamut itself has no remote limit.
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout_seconds)
        self.client = MamutClient(self._http, settings.url, settings.agent_token.get_secret_value())
        self.codes = MamutLineCodes(settings.shipping_product, settings.fee_product, settings.discount_product,
                                    settings.vat_codes, settings.warehouse, settings.rounding_product,
                                    settings.rounding_tolerance)  # fmt: skip

    async def check(self) -> None:
        await self.client.whoami()

    async def find_documents(self, reference: str, kind: DocumentKind) -> list[DocumentRef]:
        """Orders whose external number is exactly `reference` (spec §2), most advanced first."""
        exported = [order for order in await self._orders() if order.external_number == reference]
        exported.sort(key=lambda order: (STATUS_RANK.get(order.status, 9), int(order.number or 0)))
        found = [_ref(order) for order in exported]
        job = await self.client.job(reference)
        result = job["result"] if job is not None and job["state"] == "done" else {}
        number = str(result.get("number", ""))
        if number and number not in {ref.number for ref in found}:
            found.append(DocumentRef(DOCUMENT_KIND, number, reference, {"status": str(result.get("status"))}))
        return found

    async def remove_document(self, document: DocumentRef) -> bool:
        return False  # Import/Export cannot delete; a person removes a stray unprocessed order in Mamut

    async def customer_exists(self, customer_id: str) -> bool:
        return any(found.number == customer_id for found in await self._customers())

    async def find_customer(self, customer: Customer) -> str | None:
        """By e-mail, then organisation number (the integrators' matching rules, spec §4); lowest number wins."""
        customers = await self._customers()
        for key, wanted in (("email", customer.email), ("organisation_number", customer.vat_number)):
            numbers = [int(c.number) for c in customers if wanted and getattr(c, key).casefold() == wanted.casefold()]
            if numbers:
                return str(min(numbers))
        return None

    async def create_customer(self, customer: Customer, order: Order) -> str:
        reference = f"customer/{customer.email.casefold()}"
        result = await self._import(reference, "customer", customer_to_mamut(customer))
        return str(result["number"])

    async def missing_skus(self, skus: Iterable[str]) -> set[str]:
        known = await self._product_numbers()
        return {sku for sku in dict.fromkeys(skus) if sku not in known}

    async def create_document(
        self, order: Order, customer_id: str, kind: DocumentKind, reference: str
    ) -> DocumentRef:
        if kind is not DocumentKind.ORDER:
            raise ConfigError(f"Mamut imports web orders as orders, not as {kind} documents", system=SYSTEM)
        await self._check_products(order)
        result = await self._import(reference, "order", order_to_mamut(order, customer_id, reference, self.codes))
        return DocumentRef(DOCUMENT_KIND, str(result["number"]), reference, {"status": str(result.get("status"))})

    async def book_invoice(self, document: DocumentRef) -> DocumentRef:
        raise ConfigError("Mamut orders are invoiced in Mamut; set document = \"order\" and book_invoices = false",
                          system=SYSTEM)  # fmt: skip

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _check_products(self, order: Order) -> None:
        skus = [line.sku for line in order.lines if line.kind is OrderLineKind.PRODUCT]
        missing = await self.missing_skus(skus)
        if missing:
            raise DataError(f"Mamut has no product {', '.join(sorted(missing))}", system=SYSTEM)
        services = {self.codes.shipping_product: OrderLineKind.SHIPPING, self.codes.fee_product: OrderLineKind.FEE,
                    self.codes.discount_product: OrderLineKind.DISCOUNT}  # fmt: skip
        used = {number for number, kind in services.items() if any(line.kind is kind for line in order.lines)}
        unknown = await self.missing_skus(used)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise ConfigError(f"the service product {names} does not exist in Mamut", system=SYSTEM)

    async def _import(self, reference: str, kind: str, payload: str) -> dict[str, Any]:
        """Queue the document once per reference and wait for the agent's answer."""
        job = await self.client.enqueue(reference, kind, payload)
        deadline = time.monotonic() + self.settings.confirm_seconds
        while job["state"] not in ("done", "failed"):
            if time.monotonic() > deadline:
                message = (f"the Mamut agent has not picked up {reference}; is it running? (shopbridge agent status)"
                           if job["state"] == "queued" else f"Mamut has not confirmed {reference} yet")  # fmt: skip
                raise TransientError(message, SYSTEM, "import", retry_after=self.settings.poll_seconds)
            await asyncio.sleep(self.settings.poll_seconds)
            job = await self.client.job(reference) or job
        if job["state"] == "failed":
            raise DataError(f"Mamut refused the import: {job['error']}", system=SYSTEM, operation="import")
        return dict(job["result"])

    async def _orders(self) -> list[ExportedOrder]:
        xml = await self.client.export("orders")
        return orders_from_mamut(xml) if xml else []

    async def _customers(self) -> list[ExportedCustomer]:
        xml = await self.client.export("customers")
        return customers_from_mamut(xml) if xml else []

    async def _product_numbers(self) -> set[str]:
        xml = await self.client.export("products")
        if xml is None:
            raise TransientError("the Mamut agent has not sent its product export yet", system=SYSTEM)
        return product_numbers_from_mamut(xml)


def _ref(order: ExportedOrder) -> DocumentRef:
    return DocumentRef(DOCUMENT_KIND, order.number, order.external_number, {"status": order.status})
