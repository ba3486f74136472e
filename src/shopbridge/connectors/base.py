"""Capability protocols that connectors implement and flows depend on.

A connector declares what its system can do in `Capabilities`, so that flows adapt to it rather
than asking which system they talk to. Each protocol is one capability; a connector implements
the ones its system has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from shopbridge.model import Customer, Order


class DocumentKind(StrEnum):
    """What a shop order becomes in the ERP."""

    ORDER = "order"
    INVOICE = "invoice"


@dataclass(frozen=True)
class Capabilities:
    variants: bool = False
    price_lists: bool = False
    documents: frozenset[DocumentKind] = frozenset()
    multishop: bool = False
    webhooks: bool = False


@dataclass(frozen=True)
class OrderSummary:
    """Enough of a shop order to decide whether to transfer it, without fetching all of it."""

    id: str
    shop: str
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class DocumentRef:
    """An ERP document: `kind` is the system's own word (for example `draft_invoice`)."""

    kind: str
    number: str
    reference: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class ConnectorSettings(BaseModel):
    """Base of every connector's settings model (the `[shop]` or `[erp]` table of a connection)."""

    system: str


@runtime_checkable
class Connector(Protocol):
    system: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    async def check(self) -> None:
        """Prove the credentials work; raise ConfigError when they do not."""

    async def aclose(self) -> None: ...


@runtime_checkable
class OrderSource(Connector, Protocol):
    def order_changes(self, since: datetime, until: datetime) -> AsyncIterator[list[OrderSummary]]:
        """Pages of orders changed in [since, until] (UTC), oldest first."""
        ...

    async def get_order(self, order_id: str) -> Order:
        """The whole order; DataError when it cannot be read into the canonical model."""
        ...

    async def status_history(self, order_id: str) -> list[str]:
        """Every status the order has had, oldest first (its current status last)."""
        ...

    async def status_histories(self, order_ids: Sequence[str]) -> dict[str, list[str]]:
        """`status_history` of many orders in as few calls as the system allows (polling reads a
        page's worth at once); an order without history may be left out. A source whose API has
        no batched read can return `await histories_one_by_one(self, order_ids)`."""
        ...


@runtime_checkable
class DocumentSink(Connector, Protocol):
    # Seconds from the start of a write until its outcome, however the request ended, shows in
    # the ERP's lookups (the request's own timeout plus the ERP's lag). After an unknown outcome
    # the flow waits this long and looks again before it writes again.
    settle_seconds: float

    async def find_documents(self, reference: str, kind: DocumentKind) -> list[DocumentRef]:
        """Every document carrying exactly this external reference where a document of `kind` can
        live, the one to keep first (booked before sent before draft)."""
        ...

    async def remove_document(self, document: DocumentRef) -> bool:
        """Delete a stray document ShopBridge wrote; False where the ERP cannot (booked, sent)."""
        ...

    async def customer_exists(self, customer_id: str) -> bool:
        """Whether a bound ERP customer still exists (the bookkeeper may delete or merge it)."""
        ...

    async def find_customer(self, customer: Customer) -> str | None: ...

    async def create_customer(self, customer: Customer, order: Order) -> str: ...

    async def missing_skus(self, skus: Iterable[str]) -> set[str]:
        """The SKUs the ERP has no article for."""
        ...

    async def create_document(
        self, order: Order, customer_id: str, kind: DocumentKind, reference: str
    ) -> DocumentRef: ...

    async def book_invoice(self, document: DocumentRef) -> DocumentRef:
        """Turn a draft invoice into a booked one; a booked one is returned as it is."""
        ...


async def histories_one_by_one(source: OrderSource, order_ids: Sequence[str]) -> dict[str, list[str]]:
    """`status_histories` for a source that can only read one order's history per call."""
    return {order_id: await source.status_history(order_id) for order_id in order_ids}
