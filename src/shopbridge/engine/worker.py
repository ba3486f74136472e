"""Wire the worker: workflows, activities, the store and the connector pool they use. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client
from temporalio.worker import Worker

from shopbridge.engine.activities import OrderActivities
from shopbridge.engine.workflows import OrderTransferWorkflow, PollOrdersWorkflow
from shopbridge.flows.connection import ConnectorPool
from shopbridge.store import Store
from shopbridge.store.rate_budget import rate_budget_for

MAX_CONCURRENT_ACTIVITIES = 20


@asynccontextmanager
async def build_worker(
    client: Client, store: Store, task_queue: str, connectors: ConnectorPool | None = None
) -> AsyncIterator[Worker]:
    """A running worker; its connectors (HTTP pools, caches) live as long as it and close after it.

    Without a pool given, the worker's pool paces calls by the shared budget on the store's database.
    """
    budget = None if connectors is not None else rate_budget_for(store_url(store))
    connectors = connectors if connectors is not None else ConnectorPool(budget)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderTransferWorkflow, PollOrdersWorkflow],
        activities=OrderActivities(store, connectors).all(),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
    )
    try:
        async with worker:
            yield worker
    finally:
        await connectors.aclose()
        if budget is not None:
            await budget.aclose()


def store_url(store: Store) -> str:
    return store.database.engine.url.render_as_string(hide_password=False)
