"""Activities: each opens the connection's flow, runs one flow step and maps its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from shopbridge.engine.contracts import AdmitOutput, OrderRef, PollInput, PollOutput, TransferInput, TransferOutput
from shopbridge.engine.errors import temporal_errors
from shopbridge.flows.connection import ConnectorPool, open_order_flow
from shopbridge.flows.order_polling import poll_orders
from shopbridge.store import Store


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

    @activity.defn(name="admit_order")
    async def admit_order(self, ref: OrderRef) -> AdmitOutput:
        async with temporal_errors(), open_order_flow(self.store, ref.connection, self.connectors) as flow:
            return AdmitOutput(await flow.admit_by_id(ref.shop, ref.order_id))

    @activity.defn(name="transfer_order")
    async def transfer_order(self, request: TransferInput) -> TransferOutput:
        async with temporal_errors(), open_order_flow(self.store, request.connection, self.connectors) as flow:
            outcome = await flow.transfer(request.transfer_id)
            document = outcome.document
            return TransferOutput(
                transfer_id=outcome.transfer_id,
                state=outcome.state,
                document_kind=document.kind if document else "",
                document_number=document.number if document else "",
                reason=outcome.reason,
                adopted=outcome.adopted,
            )

    def all(self) -> list[Callable[..., Any]]:
        return [self.poll_orders, self.admit_order, self.transfer_order]
