"""Order transfer shop → ERP: admit an order to the ledger, then write it to the ERP once.

The rules that keep an order from being lost or doubled (ARCHITECTURE.md, correctness rule 1):
every transfer has the deterministic id `connection/shop/order`; a ledger row is claimed with a
lease (on the database's clock, renewed while the attempt runs) before any remote write; the
ERP is searched for documents carrying that id before one is created, so a write whose answer
was lost is adopted, not repeated. Every write is announced in the ledger and fenced by the
claim's token; when its outcome is unknown, no attempt writes again before the ERP has settled
and been searched once more, and a check after the transfer removes any stray draft that still
appeared (or shows the operator what it cannot remove).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, partial

from shopbridge.connectors.base import DocumentKind, DocumentRef, DocumentSink, OrderSource, OrderSummary
from shopbridge.connectors.calls import ranked_calls
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError
from shopbridge.flows.erp_customers import CUSTOMER_ENTITY, CustomerResolver
from shopbridge.flows.ids import transfer_id
from shopbridge.flows.rules import OrderRules
from shopbridge.flows.writes import off_loop, renewing, surely_not_committed, wait_for_settled_write
from shopbridge.model import Order, OrderLineKind, OrderState
from shopbridge.store import Admission, ConnectionRecord, Store, TransferClaim, TransferRecord

__all__ = ["CUSTOMER_ENTITY", "OrderFlow", "TransferOutcome", "snapshot_of"]

# States in which the shop no longer wants the order booked; such orders are parked for a person.
REFUSED_STATES = frozenset({OrderState.CANCELLED, OrderState.REFUNDED, OrderState.PAYMENT_ERROR})
BOOKED_KIND = "booked_invoice"
# A shop answering 404 for an order id: nothing to admit (a webhook for an order that is not there).
NOT_FOUND = 404


@dataclass(frozen=True)
class TransferOutcome:
    transfer_id: str
    state: str
    document: DocumentRef | None = None
    reason: str = ""
    adopted: bool = False
    # Seconds after which to look for stray documents (a write's outcome was unknown on the way).
    check_after_seconds: float = 0.0


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

    @cached_property
    def write_window_seconds(self) -> float:
        """How long after a write began its outcome is surely visible in the ERP's lookups."""
        return self.rules.settle_seconds if self.rules.settle_seconds is not None else self.sink.settle_seconds

    @cached_property
    def customers(self) -> CustomerResolver:
        return CustomerResolver(self.connection, self.sink, self.store, self.rules.lease_seconds,
                                self.write_window_seconds)  # fmt: skip

    def admit(self, shop: str, order_id: str, status: str) -> str | None:
        """Record a triggered order in the ledger; an order seen once stays admitted."""
        tid = self.transfer_id(shop, order_id)
        if self.store.ledger.get(tid) is None:
            if not self._triggers(status):
                return None
            self.store.ledger.ensure(tid, self.connection.id, shop, order_id, shop_status=status)
        return tid

    async def admit_changes(self, page: Sequence[OrderSummary]) -> list[str]:
        """Admit a page of changed orders whose status is, or has been, a trigger status: one
        store read and at most two writes, off the event loop; the histories of the page's new
        untriggered orders come in one batched read."""
        ids = {(summary.shop, summary.id): self.transfer_id(summary.shop, summary.id) for summary in page}
        known = await off_loop(self.store.ledger.known, list(ids.values()))
        fresh = [summary for summary in page if ids[summary.shop, summary.id] not in known]
        triggered = [Admission(ids[s.shop, s.id], s.shop, s.id, s.status) for s in fresh if self._triggers(s.status)]
        await off_loop(self.store.ledger.ensure_many, self.connection.id, triggered)
        admitted = [tid for tid in ids.values() if tid in known] + [entry.transfer_id for entry in triggered]
        undecided = [summary for summary in fresh if not self._triggers(summary.status)]
        if not undecided:
            return admitted
        histories = await self.source.status_histories([summary.id for summary in undecided])
        passed = []
        for summary in undecided:
            status = self._first_trigger(histories.get(summary.id, []))
            if status is not None:
                passed.append(Admission(ids[summary.shop, summary.id], summary.shop, summary.id, status))
        await off_loop(self.store.ledger.ensure_many, self.connection.id, passed)
        return admitted + [entry.transfer_id for entry in passed]

    async def _admit_by_history(self, shop: str, order_id: str, status: str) -> str | None:
        # An order can pass through a trigger status ("Payment accepted") and on to one that is
        # not listed ("Shipped") between two polls; its history still shows it was triggered.
        tid = await off_loop(self.admit, shop, order_id, status)
        if tid is not None:
            return tid
        triggered = self._first_trigger(await self.source.status_history(order_id))
        return await off_loop(self.admit, shop, order_id, triggered) if triggered is not None else None

    def _triggers(self, status: str) -> bool:
        return status in self.rules.trigger_statuses

    def _first_trigger(self, history: Sequence[str]) -> str | None:
        """The first trigger status an order's history shows, if any."""
        return next((status for status in history if self._triggers(status)), None)

    async def transfer_order(self, shop: str, order_id: str) -> TransferOutcome:
        """Admit an order known only by id (a webhook) and transfer it, reading it from the shop once."""
        tid = self.transfer_id(shop, order_id)
        if await off_loop(self.store.ledger.get, tid) is not None:
            return await self.transfer(tid)
        try:
            order = await self.source.get_order(order_id)
        except ConfigError as exc:
            await off_loop(self.stop_connection, str(exc))
            raise
        except DataError as exc:
            if exc.status == NOT_FOUND:
                # No row for an id the shop does not have: a flood of them cannot grow the ledger.
                return TransferOutcome(tid, "not_triggered", reason=f"the shop has no order {order_id}")
            await off_loop(self.store.ledger.ensure, tid, self.connection.id, shop, order_id)
            return await self._park(tid, f"the shop order cannot be read: {exc}")
        admitted = await self._admit_by_history(order.shop, order.id, order.status)
        if admitted is None:
            return TransferOutcome(tid, "not_triggered", reason=f"status {order.status} is not a trigger status")
        return await self.transfer(admitted, order)

    async def transfer(self, tid: str, order: Order | None = None) -> TransferOutcome:
        """Write one admitted order to the ERP, exactly once."""
        row = await off_loop(self.store.ledger.get, tid)
        if row is None:
            raise DataError(f"transfer {tid} was never admitted")
        if row.state in ("transferred", "parked"):
            return _outcome_of(row)
        claim = await off_loop(self.store.ledger.claim, tid, self.rules.lease_seconds)
        if claim is None:
            return await self._not_claimed(tid)
        try:
            renew = partial(self.store.ledger.renew, claim, self.rules.lease_seconds)
            # Older orders' calls go first: the backlog drains oldest first, one order after another.
            with ranked_calls(row.created_at.timestamp()):
                async with renewing(renew, self.rules.lease_seconds / 3):
                    return await self._transfer_claimed(claim, order)
        except DataError as exc:
            return await self._park(tid, str(exc), claim)
        except ConfigError as exc:
            await off_loop(self.store.ledger.record_failure, tid, str(exc), "config", claim)
            await off_loop(self.stop_connection, str(exc))
            await self._event("order.failed", tid, str(exc))
            raise
        except ShopBridgeError as exc:
            await self._failed_attempt(tid, str(exc), claim)
            raise
        except Exception as exc:
            # A bug must not leave the row claimed until the lease runs out, nor hide the cause.
            await self._failed_attempt(tid, f"{type(exc).__name__}: {exc}", claim)
            raise

    async def _transfer_claimed(self, claim: TransferClaim, order: Order | None) -> TransferOutcome:
        tid = claim.transfer_id
        if order is None:
            order = await self.source.get_order(claim.record.order_id)
        await off_loop(self._save_snapshot, tid, order)
        wait_for_settled_write(claim.write_not_before(self.write_window_seconds), claim.claimed_at)
        # The ERP first: a document written before a crash counts even if the shop cancelled since.
        found = await self.sink.find_documents(tid, self.rules.document)
        if found:
            document = found[0]
        elif order.state in REFUSED_STATES:
            raise DataError(f"the order is {order.state.value} in the shop (status {order.status}); not transferred")
        else:
            document = await self._create_document(claim, order)
        if self.rules.document is DocumentKind.INVOICE and self.rules.book_invoices and document.kind != BOOKED_KIND:
            document = await self.sink.book_invoice(document)
        if await off_loop(self.store.ledger.mark_transferred, claim, document.kind, document.number) is None:
            raise TransientError("this attempt lost its claim on the order; the attempt holding it adopts the document")
        note = " (found already written)" if found else ""
        await self._event("order.transferred", tid, f"{document.kind} {document.number}{note}")
        if len(found) > 1:
            await self.check_strays(tid)
        in_doubt = claim.record.in_doubt or claim.record.write_started_at is not None
        check_after = self.write_window_seconds if in_doubt else 0.0
        return TransferOutcome(tid, "transferred", document, adopted=bool(found), check_after_seconds=check_after)

    async def _create_document(self, claim: TransferClaim, order: Order) -> DocumentRef:
        skus = {line.sku for line in order.lines if line.kind is OrderLineKind.PRODUCT}
        missing = await self.sink.missing_skus(skus)
        if missing:
            raise DataError(f"the ERP has no article for SKU {', '.join(sorted(missing))}")
        customer = await self.customers.resolve(order, claim.transfer_id)
        try:
            return await self._write_document(claim, order, customer.customer_id)
        except DataError:
            if not customer.bound_before or await self.sink.customer_exists(customer.customer_id):
                raise
        # The bookkeeper deleted or merged the bound customer: bind the buyer again and retry once.
        await self.customers.forget(order, customer.customer_id, claim.transfer_id)
        customer = await self.customers.resolve(order, claim.transfer_id)
        return await self._write_document(claim, order, customer.customer_id)

    async def _write_document(self, claim: TransferClaim, order: Order, customer_id: str) -> DocumentRef:
        """Create the document under the claim's fence; an unknown outcome makes the row wait."""
        if not await off_loop(self.store.ledger.begin_write, claim, self.rules.lease_seconds):
            raise TransientError("this attempt lost its claim on the order before writing")
        try:
            return await self.sink.create_document(order, customer_id, self.rules.document, claim.transfer_id)
        except ShopBridgeError as error:
            if surely_not_committed(error):
                await off_loop(self.store.ledger.write_not_sent, claim)
                raise
            reason = f"the ERP write may or may not have happened ({error}); looking again once the ERP has settled"
            await off_loop(self.store.ledger.write_in_doubt, claim, reason, self.write_window_seconds)
            await self._event("order.write_in_doubt", claim.transfer_id, reason)
            raise TransientError(reason, retry_after=self.write_window_seconds) from error

    async def check_strays(self, tid: str) -> list[DocumentRef]:
        """After a doubtful write: remove our stray drafts; what cannot be removed is shown."""
        row = await off_loop(self.store.ledger.get, tid)
        if row is None or row.state != "transferred":
            return []
        kept = (row.document_kind, row.document_number)
        found = await self.sink.find_documents(tid, self.rules.document)
        strays = [doc for doc in found if (doc.kind, doc.number) != kept]
        remaining = []
        for stray in strays:
            if await self.sink.remove_document(stray):
                await self._event("order.stray_removed", tid, f"removed stray {stray.kind} {stray.number}")
            else:
                remaining.append(stray)
                await self._event("order.stray_document", tid, f"stray {stray.kind} {stray.number} cannot be removed")
        listed = ", ".join(f"{doc.kind} {doc.number}" for doc in remaining)
        await off_loop(self.store.ledger.record_strays, tid, listed)
        return remaining

    async def _failed_attempt(self, tid: str, reason: str, claim: TransferClaim) -> None:
        """Record a failure worth retrying, in the row and on the order's timeline."""
        await off_loop(self.store.ledger.record_failure, tid, reason, "transient", claim)
        await self._event("order.attempt_failed", tid, reason)

    async def _not_claimed(self, tid: str) -> TransferOutcome:
        row = await off_loop(self.store.ledger.get, tid)
        if row is not None and row.state in ("transferred", "parked"):
            return _outcome_of(row)
        raise TransientError("another worker is transferring this order", retry_after=self.rules.lease_seconds / 3)

    def stop_connection(self, reason: str) -> None:
        """A configuration error: the connection stays stopped until an operator acts."""
        self.store.connections.set_status(self.connection.name, "config_error", reason)

    async def _park(self, tid: str, reason: str, claim: TransferClaim | None = None) -> TransferOutcome:
        row = await off_loop(self.store.ledger.mark_parked, tid, reason, claim)
        if row.state != "parked":
            return _outcome_of(row)  # transferred meanwhile, or another attempt holds it
        await self._event("order.parked", tid, reason)
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

    async def _event(self, kind: str, tid: str | None, message: str) -> None:
        await off_loop(self.store.events.add, kind, message, connection_id=self.connection.id, transfer_id=tid)


def _outcome_of(row: TransferRecord) -> TransferOutcome:
    document = DocumentRef(row.document_kind or "", row.document_number or "") if row.document_number else None
    return TransferOutcome(row.transfer_id, row.state, document, reason=row.last_error or "")


def snapshot_of(row: TransferRecord) -> dict[str, object] | None:
    """The canonical order last read for this transfer, for the operator's view."""
    return json.loads(row.order_json) if row.order_json else None
