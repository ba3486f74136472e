"""Wire the worker: workflows, activities and the store they use. Nothing else.

Scheduled polls run on a task queue of their own (`poll_queue`), workflow and activities, so a
round never waits behind a backlog of transfers: that backlog is what the round is there to feed.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from types import TracebackType

from temporalio.client import Client
from temporalio.worker import Worker

from shopbridge.engine.activities import OrderActivities
from shopbridge.engine.workflows import OrderTransferWorkflow, PollOrdersWorkflow, poll_queue
from shopbridge.flows.order_polling import PollLimits
from shopbridge.store import Store

MAX_CONCURRENT_ACTIVITIES = 20
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


def build_worker(client: Client, store: Store, task_queue: str, poll_limits: PollLimits | None = None) -> Workers:
    activities = OrderActivities(store, poll_limits, client, task_queue)
    main = Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderTransferWorkflow, PollOrdersWorkflow],
        activities=activities.transfer_steps(),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )
    polls = Worker(
        client,
        task_queue=poll_queue(task_queue),
        workflows=[PollOrdersWorkflow],
        activities=activities.poll_steps(),
        max_concurrent_activities=MAX_CONCURRENT_POLLS,
    )
    return Workers(main, polls)
