"""Wire the worker: workflows, activities and the store they use. Nothing else."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from shopbridge.engine.activities import OrderActivities
from shopbridge.engine.workflows import OrderTransferWorkflow, PollOrdersWorkflow
from shopbridge.store import Store

MAX_CONCURRENT_ACTIVITIES = 20
# A workflow task cached on a worker that died waits this long before any worker may take it.
STICKY_TIMEOUT = timedelta(seconds=3)


def build_worker(client: Client, store: Store, task_queue: str) -> Worker:
    activities = OrderActivities(store)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderTransferWorkflow, PollOrdersWorkflow],
        activities=activities.all(),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )
