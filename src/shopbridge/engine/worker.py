"""Wire a worker process: the Temporal worker of transfers, optionally the poller, the store and
the connector pool they share. Nothing else.

The poller runs beside the Temporal worker, not inside it (engine/poller.py): admission into the
ledger must go on while Temporal restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from shopbridge.engine.activities import OrderActivities
from shopbridge.engine.poller import Poller, TransferStarter
from shopbridge.engine.workflows import OrderTransferWorkflow
from shopbridge.flows.connection import ConnectorPool
from shopbridge.flows.order_polling import PollLimits
from shopbridge.store import Store
from shopbridge.store.rate_budget import rate_budget_for

MAX_CONCURRENT_ACTIVITIES = 20
# The sandbox still refuses non-deterministic calls inside a workflow, but does not import the
# workflow module afresh for every run: that import was the worker's largest cost per order.
# Safe because engine/workflows.py holds no state at module level and imports only pure modules.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())
# A workflow task cached on a worker that died waits this long before any worker may take it.
STICKY_TIMEOUT = timedelta(seconds=3)


@asynccontextmanager
async def build_worker(
    client: Client,
    store: Store,
    task_queue: str,
    *,
    connectors: ConnectorPool | None = None,
    poll: bool = False,
    poll_limits: PollLimits | None = None,
) -> AsyncIterator[Worker]:
    """A running worker (and, with `poll`, the poller); their connectors (HTTP pools, caches)
    live as long as they and close after.

    Without a pool given, the worker's pool paces calls by the shared budget on the store's database.
    """
    budget = None if connectors is not None else rate_budget_for(store_url(store))
    connectors = connectors if connectors is not None else ConnectorPool(budget)
    activities = OrderActivities(store, connectors)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderTransferWorkflow],
        activities=activities.all(),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        workflow_runner=WORKFLOW_RUNNER,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )
    stop = asyncio.Event()
    polling: asyncio.Task[None] | None = None
    try:
        async with worker:
            if poll:
                poller = Poller(store, TransferStarter(client, task_queue), connectors, poll_limits)
                polling = asyncio.create_task(poller.run(stop))
            yield worker
            stop.set()
            if polling is not None:
                await polling
    finally:
        if polling is not None and not polling.done():
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        await connectors.aclose()
        if budget is not None:
            await budget.aclose()


def store_url(store: Store) -> str:
    return store.database.engine.url.render_as_string(hide_password=False)
