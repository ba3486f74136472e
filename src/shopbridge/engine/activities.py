"""Activities: each opens the connection's flow, runs one flow step and maps its errors."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import activity
from temporalio.client import Client

from shopbridge.engine.contracts import (
    OrderRef,
    PollInput,
    PollOutput,
    StartTransfersInput,
    TransferInput,
    TransferOutput,
)
from shopbridge.engine.control import start_transfer
from shopbridge.engine.errors import temporal_errors
from shopbridge.engine.heartbeat import POLL_BEAT_SECONDS, Heartbeat
from shopbridge.engine.workflows import transfer_workflow_id
from shopbridge.flows.connection import ConnectorPool, open_order_flow
from shopbridge.flows.order_polling import STALE_AFTER, PollLimits, poll_orders
from shopbridge.store import Store

# Transfers started at once by one start_transfers activity.
STARTS_IN_FLIGHT = 20
MAX_REMEMBERED_STARTS = 100_000


class RecentStarts:
    """Transfers this worker started, or found running, lately. A backlog waiting for the rate
    budget stays pending (never tried) for minutes, and every round hands it out again: asking
    Temporal to start each one again, only to hear it runs, made rounds take many seconds."""

    def __init__(self, forget_after_seconds: float) -> None:
        self.forget_after = forget_after_seconds
        self._at: dict[str, float] = {}

    def seen(self, workflow_id: str) -> bool:
        return time.monotonic() - self._at.get(workflow_id, -math.inf) < self.forget_after

    def note(self, workflow_id: str) -> None:
        now = time.monotonic()
        if len(self._at) > MAX_REMEMBERED_STARTS:
            self._at = {key: at for key, at in self._at.items() if now - at < self.forget_after}
        self._at[workflow_id] = now


class OrderActivities:
    """The order flow's steps, over the store and the connector pool the worker was given;
    `client` and `task_queue` (the transfers' queue) are needed by `start_transfers` only."""

    def __init__(
        self,
        store: Store,
        connectors: ConnectorPool | None = None,
        poll_limits: PollLimits | None = None,
        client: Client | None = None,
        task_queue: str = "",
    ) -> None:
        self.store = store
        self.connectors = connectors
        self.poll_limits = poll_limits
        self.client = client
        self.task_queue = task_queue
        self.recent_starts = RecentStarts(STALE_AFTER.total_seconds())

    @activity.defn(name="poll_orders")
    async def poll_orders(self, request: PollInput) -> PollOutput:
        """One bounded round; a retry after a dead worker resumes after the pages it committed."""
        opened = open_order_flow(self.store, request.connection, self.connectors)
        async with temporal_errors(), Heartbeat(POLL_BEAT_SECONDS) as beat, opened as flow:
            start = beat.details or request.resume_from
            resume_from = datetime.fromisoformat(start) if start else None

            def committed(point: datetime) -> None:
                beat.progress(point.isoformat())

            result = await poll_orders(flow, resume_from=resume_from, limits=self.poll_limits, progress=committed)
            pending = [OrderRef(request.connection, row.shop, row.order_id) for row in result.pending]
            resume = result.resume_from.isoformat() if result.resume_from else ""
            return PollOutput(seen=result.seen, pending=pending, resume_from=resume)

    @activity.defn(name="start_transfers")
    async def start_transfers(self, request: StartTransfersInput) -> int:
        """Start each order's transfer unless it runs or succeeded; returns how many started. An
        activity, not child workflows: a round need not wait for each start to be confirmed."""
        client = self.client
        if client is None:
            raise RuntimeError("start_transfers needs the worker's Temporal client")
        gate = asyncio.Semaphore(STARTS_IN_FLIGHT)

        async def start(ref: OrderRef) -> bool:
            async with gate:
                started = await start_transfer(client, ref, self.task_queue, request.retry_seconds) is not None
            self.recent_starts.note(transfer_workflow_id(ref))
            return started

        due = [ref for ref in request.refs if not self.recent_starts.seen(transfer_workflow_id(ref))]
        async with temporal_errors(), Heartbeat(POLL_BEAT_SECONDS):
            return sum(await asyncio.gather(*(start(ref) for ref in due)))

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
        return [*self.poll_steps(), *self.transfer_steps()]

    def poll_steps(self) -> list[Callable[..., Any]]:
        """The activities of the PollOrders workflow, served on the poll task queue."""
        return [self.poll_orders, self.start_transfers]

    def transfer_steps(self) -> list[Callable[..., Any]]:
        """The activities of the OrderTransfer workflow (polls have a task queue of their own)."""
        return [self.transfer_order, self.check_strays]
