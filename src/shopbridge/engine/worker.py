"""Wire the worker: workflows, activities, the store and the connector pool they use. Nothing else.

Scheduled polls run on a task queue of their own (`poll_queue`), workflow and activities, so a
round never waits behind a backlog of transfers: that backlog is what the round is there to feed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from types import TracebackType

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from shopbridge.engine.activities import OrderActivities
from shopbridge.engine.workflows import OrderTransferWorkflow, PollOrdersWorkflow, poll_queue
from shopbridge.flows.connection import ConnectorPool
from shopbridge.flows.order_polling import PollLimits
from shopbridge.store import Store
from shopbridge.store.rate_budget import rate_budget_for

MAX_CONCURRENT_ACTIVITIES = 20
# The sandbox still refuses non-deterministic calls inside a workflow, but does not import the
# workflow module afresh for every run: that import was the worker's largest cost per order.
# Safe because engine/workflows.py holds no state at module level and imports only pure modules.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())
MAX_CONCURRENT_POLLS = 4
# A workflow task cached on a worker that died waits this long before any worker may take it.
STICKY_TIMEOUT = timedelta(seconds=3)


class Workers:
    """The transfer worker and the poll worker of one process, started and stopped together."""

    def __init__(self, *workers: Worker) -> None:
        self.workers = workers
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Workers:
        for worker in self.workers:
            await self._stack.enter_async_context(worker)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._stack.__aexit__(kind, error, trace)


@asynccontextmanager
async def build_worker(
    client: Client,
    store: Store,
    task_queue: str,
    *,
    connectors: ConnectorPool | None = None,
    poll_limits: PollLimits | None = None,
) -> AsyncIterator[Workers]:
    """Running workers; their connectors (HTTP pools, caches) live as long as they and close after.

    Without a pool given, the workers' pool paces calls by the shared budget on the store's database.
    """
    budget = None if connectors is not None else rate_budget_for(store_url(store))
    connectors = connectors if connectors is not None else ConnectorPool(budget)
    activities = OrderActivities(store, connectors, poll_limits, client, task_queue)
    main = Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderTransferWorkflow, PollOrdersWorkflow],
        activities=activities.transfer_steps(),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        workflow_runner=WORKFLOW_RUNNER,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )
    polls = Worker(
        client,
        task_queue=poll_queue(task_queue),
        workflows=[PollOrdersWorkflow],
        activities=activities.poll_steps(),
        max_concurrent_activities=MAX_CONCURRENT_POLLS,
        workflow_runner=WORKFLOW_RUNNER,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )
    try:
        async with Workers(main, polls) as running:
            yield running
    finally:
        await connectors.aclose()
        if budget is not None:
            await budget.aclose()


def store_url(store: Store) -> str:
    return store.database.engine.url.render_as_string(hide_password=False)
