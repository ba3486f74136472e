"""Order transfer shop → ERP: admit an order to the ledger, then write it to the ERP once.

The rules that keep an order from being lost or doubled (ARCHITECTURE.md, correctness rule 1):
every transfer has the deterministic id `connection/shop/order`; a ledger row is claimed with a
lease before any remote write; the ERP is searched for a document carrying that id before one
is created, so a write whose answer was lost is adopted, not repeated.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

from shopbridge.connectors.base import DocumentKind, DocumentRef, DocumentSink, OrderSource, OrderSummary
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError
from shopbridge.flows.ids import transfer_id
from shopbridge.flows.rules import OrderRules
from shopbridge.model import Order, OrderLineKind, OrderState
from shopbridge.store import ConnectionRecord, Store, TransferRecord

CUSTOMER_ENTITY = "customer"
# States in which the shop no longer wants the order booked; such orders are parked for a person.
REFUSED_STATES = frozenset({OrderState.CANCELLED, OrderState.REFUNDED, OrderState.PAYMENT_ERROR})
BOOKED_KIND = "booked_invoice"
NOT_FOUND = 404
# Process-wide so that concurrent activities for one new buyer create one ERP customer.
_CUSTOMER_LOCKS: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()


@dataclass(frozen=True)
class TransferOutcome:
    transfer_id: str
    state: str
    document: DocumentRef | None = None
    reason: str = ""
    adopted: bool = False


@dataclass
class OrderFlow:
    """One connection's order flow: the shop it reads, the ERP it writes and the ledger."""

    connection: ConnectionRecord
    source: OrderSource
    sink: DocumentSink
    store: Store
    rules: OrderRules

    def transfer_id(self, shop: str, order_id: str) -> str:
        return transfer_id(self.connection.name, shop, order_id)

    def admit(self, shop: str, order_id: str, status: str) -> str | None:
        """Record a triggered order in the ledger; an order seen once stays admitted."""
        tid = self.transfer_id(shop, order_id)
        if self.store.ledger.get(tid) is None:
            if status not in self.rules.trigger_statuses:
                return None
            self.store.ledger.ensure(tid, self.connection.id, shop, order_id, shop_status=status)
        return tid

    async def admit_summary(self, summary: OrderSummary) -> str | None:
        """Admit a changed order whose status is, or has been, a trigger status."""
        return await self._admit_by_history(summary.shop, summary.id, summary.status)

    async def _admit_by_history(self, shop: str, order_id: str, status: str) -> str | None:
        # An order can pass through a trigger status ("Payment accepted") and on to one that is
        # not listed ("Shipped") between two polls; its history still shows it was triggered.
        tid = self.admit(shop, order_id, status)
        if tid is not None:
            return tid
        triggered = [seen for seen in await self.source.status_history(order_id) if seen in self.rules.trigger_statuses]
        return self.admit(shop, order_id, triggered[0]) if triggered else None

    async def admit_by_id(self, shop: str, order_id: str) -> str | None:
        """Admit an order known only by id (a webhook): read its status from the shop."""
        tid = self.transfer_id(shop, order_id)
        if self.store.ledger.get(tid) is not None:
            return tid
        try:
            order = await self.source.get_order(order_id)
        except ConfigError as exc:
            self.stop_connection(str(exc))
            raise
        except DataError as exc:
            if exc.status == NOT_FOUND:
                # An id the shop does not have (a stray or forged webhook) leaves no ledger row.
                return None
            self.store.ledger.ensure(tid, self.connection.id, shop, order_id)
            self._park(tid, f"the shop order cannot be read: {exc}")
            return tid
        return await self._admit_by_history(order.shop, order.id, order.status)

    async def transfer(self, tid: str) -> TransferOutcome:
        """Write one admitted order to the ERP, exactly once."""
        row = self.store.ledger.get(tid)
        if row is None:
            raise LookupError(f"transfer {tid} was never admitted")
        if row.state in ("transferred", "parked"):
            return _outcome_of(row)
        claimed = self.store.ledger.claim(tid, self.rules.lease_seconds)
        if claimed is None:
            return self._not_claimed(tid)
        try:
            return await self._transfer_claimed(claimed)
        except DataError as exc:
            return self._park(tid, str(exc))
        except ConfigError as exc:
            self.store.ledger.record_failure(tid, str(exc), "config")
            self.store.connections.set_status(self.connection.name, "config_error", str(exc))
            self._event("order.failed", tid, str(exc))
            raise
        except ShopBridgeError as exc:
            self._failed_attempt(tid, str(exc))
            raise
        except Exception as exc:
            # A bug must not leave the row claimed until the lease runs out, nor hide the cause.
            self._failed_attempt(tid, f"{type(exc).__name__}: {exc}")
            raise

    async def _transfer_claimed(self, row: TransferRecord) -> TransferOutcome:
        order = await self.source.get_order(row.order_id)
        self._save_snapshot(row.transfer_id, order)
        if order.state in REFUSED_STATES:
            raise DataError(f"the order is {order.state.value} in the shop (status {order.status}); not transferred")
        document = await self.sink.find_document(row.transfer_id)
        adopted = document is not None
        if document is None:
            document = await self._create_document(order, row.transfer_id)
        if self.rules.document is DocumentKind.INVOICE and self.rules.book_invoices and document.kind != BOOKED_KIND:
            document = await self.sink.book_invoice(document)
        self.store.ledger.mark_transferred(row.transfer_id, document.kind, document.number)
        note = " (found already written)" if adopted else ""
        self._event("order.transferred", row.transfer_id, f"{document.kind} {document.number}{note}")
        return TransferOutcome(row.transfer_id, "transferred", document, adopted=adopted)

    async def _create_document(self, order: Order, tid: str) -> DocumentRef:
        skus = {line.sku for line in order.lines if line.kind is OrderLineKind.PRODUCT}
        missing = await self.sink.missing_skus(skus)
        if missing:
            raise DataError(f"the ERP has no article for SKU {', '.join(sorted(missing))}")
        customer_id = await self._resolve_customer(order, tid)
        return await self.sink.create_document(order, customer_id, self.rules.document, tid)

    async def _resolve_customer(self, order: Order, tid: str) -> str:
        """The ERP customer for this buyer: bound before, found by email, or created."""
        key = order.customer.email
        lock = _CUSTOMER_LOCKS.setdefault((self.connection.name, key), asyncio.Lock())
        async with lock:
            bindings = self.store.bindings
            erp = self.sink.system
            bound = bindings.by_canonical_key(self.connection.id, erp, CUSTOMER_ENTITY, key)
            if bound is not None:
                return bound.external_id
            customer_id = await self.sink.find_customer(order.customer)
            if customer_id is None:
                customer_id = await self.sink.create_customer(order.customer, order)
                self._event("customer.created", tid, f"{erp} customer {customer_id} for {key}")
            bindings.put(self.connection.id, erp, CUSTOMER_ENTITY, customer_id, key)
            return customer_id

    def _failed_attempt(self, tid: str, reason: str) -> None:
        """Record a failure worth retrying, in the row and on the order's timeline."""
        self.store.ledger.record_failure(tid, reason, "transient")
        self._event("order.attempt_failed", tid, reason)

    def _not_claimed(self, tid: str) -> TransferOutcome:
        row = self.store.ledger.get(tid)
        if row is not None and row.state in ("transferred", "parked"):
            return _outcome_of(row)
        wait = self.rules.lease_seconds
        if row is not None and row.lease_until is not None:
            wait = max(1.0, (row.lease_until - datetime.now(UTC)).total_seconds())
        raise TransientError("another worker is transferring this order", retry_after=wait)

    def stop_connection(self, reason: str) -> None:
        """A configuration error: the connection stays stopped until an operator acts."""
        self.store.connections.set_status(self.connection.name, "config_error", reason)

    def _park(self, tid: str, reason: str) -> TransferOutcome:
        self.store.ledger.mark_parked(tid, reason)
        self._event("order.parked", tid, reason)
        return TransferOutcome(tid, "parked", reason=reason)

    def _save_snapshot(self, tid: str, order: Order) -> None:
        self.store.ledger.save_snapshot(
            tid,
            order_json=order.model_dump_json(),
            customer_email=order.customer.email,
            total_gross=str(order.total_gross.amount),
            currency=order.currency,
            order_reference=order.reference,
            shop_status=order.status,
        )

    def _event(self, kind: str, tid: str | None, message: str) -> None:
        self.store.events.add(kind, message, connection_id=self.connection.id, transfer_id=tid)


def _outcome_of(row: TransferRecord) -> TransferOutcome:
    document = DocumentRef(row.document_kind or "", row.document_number or "") if row.document_number else None
    return TransferOutcome(row.transfer_id, row.state, document, reason=row.last_error or "")


def snapshot_of(row: TransferRecord) -> dict[str, object] | None:
    """The canonical order last read for this transfer, for the operator's view."""
    return json.loads(row.order_json) if row.order_json else None
