"""The ERP customer of a shop buyer: bound before, found by email, or created once.

A new buyer's customer is created under a creation claim in the store, so that two workers on
two machines create one customer, and a create whose answer was lost is searched for again
after the ERP has settled instead of being sent twice.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from shopbridge.connectors.base import DocumentSink
from shopbridge.errors import ShopBridgeError, TransientError
from shopbridge.flows.writes import off_loop, surely_not_committed, wait_for_settled_write
from shopbridge.model import Order
from shopbridge.store import ClaimHeld, ConnectionRecord, CreationClaim, CreationKey, Store

CUSTOMER_ENTITY = "customer"
# How long an attempt waits in place for another attempt creating the same buyer's customer,
# looking again after FIRST_LOOK_SECONDS, doubling up to LAST_LOOK_SECONDS.
HOLDER_WAIT_SECONDS = 15.0
FIRST_LOOK_SECONDS = 0.1
LAST_LOOK_SECONDS = 1.0


@dataclass(frozen=True)
class ResolvedCustomer:
    customer_id: str
    bound_before: bool


@dataclass
class CustomerResolver:
    connection: ConnectionRecord
    sink: DocumentSink
    store: Store
    lease_seconds: float
    write_window_seconds: float

    async def resolve(self, order: Order, tid: str) -> ResolvedCustomer:
        bound = await off_loop(self._bound, order.customer.email)
        if bound is not None:
            return ResolvedCustomer(bound, bound_before=True)
        key = CreationKey(self.connection.id, self.sink.system, CUSTOMER_ENTITY, order.customer.email)
        claim = await self._claim(key)
        try:
            customer_id = await self._under_claim(claim, order, tid)
        except BaseException:
            await off_loop(self.store.claims.give_back, claim)
            raise
        await off_loop(self.store.claims.release, claim)
        return ResolvedCustomer(customer_id, bound_before=False)

    async def _claim(self, key: CreationKey) -> CreationClaim:
        """The buyer's creation claim. Another attempt holding it usually binds the buyer within a
        second, so look again shortly rather than fail this attempt and come back after its lease."""
        deadline = time.monotonic() + HOLDER_WAIT_SECONDS
        pause = FIRST_LOOK_SECONDS
        while True:
            claim = await off_loop(self.store.claims.claim, key, self.lease_seconds)
            if not isinstance(claim, ClaimHeld):
                return claim
            held_for = (claim.lease_until - claim.now).total_seconds()
            if time.monotonic() + pause > deadline:
                raise TransientError("another worker is creating this buyer's ERP customer",
                                     retry_after=max(0.5, held_for))  # fmt: skip
            await asyncio.sleep(min(pause, max(held_for, 0.0)))
            pause = min(pause * 2, LAST_LOOK_SECONDS)

    async def forget(self, order: Order, customer_id: str, tid: str) -> None:
        """Drop a binding whose ERP customer was deleted or merged away, so the buyer binds anew."""
        await off_loop(self.store.bindings.forget, self.connection.id, self.sink.system, CUSTOMER_ENTITY,
                       order.customer.email)  # fmt: skip
        message = f"{self.sink.system} customer {customer_id} no longer exists; binding {order.customer.email} again"
        await off_loop(self.store.events.add, "customer.rebound", message, connection_id=self.connection.id,
                       transfer_id=tid)  # fmt: skip

    async def _under_claim(self, claim: CreationClaim, order: Order, tid: str) -> str:
        wait_for_settled_write(claim.write_not_before(self.write_window_seconds), claim.claimed_at)
        # Another worker may have bound the buyer between our look and our claim.
        bound = await off_loop(self._bound, order.customer.email)
        if bound is not None:
            return bound
        customer_id = await self.sink.find_customer(order.customer)
        if customer_id is None:
            customer_id = await self._create(claim, order)
            message = f"{self.sink.system} customer {customer_id} for {order.customer.email}"
            await off_loop(self.store.events.add, "customer.created", message, connection_id=self.connection.id,
                           transfer_id=tid)  # fmt: skip
        await off_loop(self.store.bindings.put, self.connection.id, self.sink.system, CUSTOMER_ENTITY, customer_id,
                       order.customer.email)  # fmt: skip
        return customer_id

    async def _create(self, claim: CreationClaim, order: Order) -> str:
        if not await off_loop(self.store.claims.begin_write, claim, self.lease_seconds):
            raise TransientError("the claim on this buyer's ERP customer lapsed before the create")
        try:
            return await self.sink.create_customer(order.customer, order)
        except ShopBridgeError as error:
            if surely_not_committed(error):
                raise
            await off_loop(self.store.claims.write_in_doubt, claim, self.write_window_seconds)
            raise TransientError(
                f"creating the ERP customer may or may not have succeeded ({error}); searching again once "
                "the ERP has settled",
                retry_after=self.write_window_seconds,
            ) from error

    def _bound(self, email: str) -> str | None:
        binding = self.store.bindings.by_canonical_key(self.connection.id, self.sink.system, CUSTOMER_ENTITY, email)
        return None if binding is None else binding.external_id

