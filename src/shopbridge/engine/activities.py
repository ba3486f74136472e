"""Activities: each opens the connection's flow, runs one flow step and maps its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from shopbridge.engine.contracts import (
    OrderRef,
    TransferInput,
    TransferOutput,
)
from shopbridge.engine.errors import temporal_errors
from shopbridge.engine.heartbeat import Heartbeat
from shopbridge.flows.connection import ConnectorPool, open_order_flow
from shopbridge.store import Store


class OrderActivities:
    """The order flow's steps, over the store and the connector pool the worker was given."""

    def __init__(self, store: Store, connectors: ConnectorPool | None = None) -> None:
        self.store = store
        self.connectors = connectors

    @activity.defn(name="transfer_order")
    async def transfer_order(self, ref: OrderRef) -> TransferOutput:
        """Admit the order if it is new, then transfer it (one read of the shop order)."""
        opened = open_order_flow(self.store, ref.connection, self.connectors)
        async with temporal_errors(), Heartbeat(), opened as flow:
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
        async with temporal_errors(), Heartbeat(), opened as flow:
            return len(await flow.check_strays(request.transfer_id))

    def all(self) -> list[Callable[..., Any]]:
        """The activities of the OrderTransfer workflow."""
        return [self.transfer_order, self.check_strays]
