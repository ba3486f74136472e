"""Activities: each opens the connection's flow, runs one flow step and maps its errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from temporalio import activity

from shopbridge.engine.contracts import OrderRef, PollInput, PollOutput, TransferInput, TransferOutput
from shopbridge.engine.errors import temporal_errors
from shopbridge.flows.connection import ConnectorPool, open_order_flow
from shopbridge.flows.order_polling import poll_orders
from shopbridge.store import Store

# Workflows give activities a heartbeat timeout of a few times this.
HEARTBEAT_EVERY_SECONDS = 2.0


class OrderActivities:
    """The order flow's steps, over the store and the connector pool the worker was given."""

    def __init__(self, store: Store, connectors: ConnectorPool | None = None) -> None:
        self.store = store
        self.connectors = connectors

    @activity.defn(name="poll_orders")
    async def poll_orders(self, request: PollInput) -> PollOutput:
        async with temporal_errors(), open_order_flow(self.store, request.connection, self.connectors) as flow:
            result = await poll_orders(flow)
            pending = [OrderRef(request.connection, row.shop, row.order_id) for row in result.pending]
            return PollOutput(seen=result.seen, pending=pending)

    @activity.defn(name="transfer_order")
    async def transfer_order(self, ref: OrderRef) -> TransferOutput:
        """Admit the order if it is new, then transfer it (one read of the shop order)."""
        opened = open_order_flow(self.store, ref.connection, self.connectors)
        async with heartbeating(), temporal_errors(), opened as flow:
            outcome = await flow.transfer_order(ref.shop, ref.order_id)
            document = outcome.document
            return TransferOutput(
                transfer_id=outcome.transfer_id,
                state=outcome.state,
                document_kind=document.kind if document else "",
                document_number=document.number if document else "",
                reason=outcome.reason,
                adopted=outcome.adopted,
                check_after_seconds=outcome.check_after_seconds,
            )

    @activity.defn(name="check_strays")
    async def check_strays(self, request: TransferInput) -> int:
        """Remove stray drafts of a transfer whose write was in doubt; the rest is shown."""
        opened = open_order_flow(self.store, request.connection, self.connectors)
        async with heartbeating(), temporal_errors(), opened as flow:
            return len(await flow.check_strays(request.transfer_id))

    def all(self) -> list[Callable[..., Any]]:
        return [self.poll_orders, self.transfer_order, self.check_strays]


@asynccontextmanager
async def heartbeating(every_seconds: float = HEARTBEAT_EVERY_SECONDS) -> AsyncIterator[None]:
    """Heartbeat while the activity runs, so a killed worker's attempt is retried in seconds."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every_seconds)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
