"""Start workflows from outside: webhooks, operator retries, one-off polls, poll schedules."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from shopbridge.engine.contracts import OrderRef, PollInput, TransferOutput
from shopbridge.engine.workflows import (
    TRANSFER_ID_REUSE,
    OrderTransferWorkflow,
    PollOrdersWorkflow,
    poll_queue,
    transfer_workflow_id,
)


async def start_transfer(
    client: Client, ref: OrderRef, task_queue: str, retry_seconds: float = 1.0
) -> WorkflowHandle[OrderTransferWorkflow, TransferOutput] | None:
    """Start an order's transfer; None when one is running or already succeeded under its id."""
    try:
        return await client.start_workflow(
            OrderTransferWorkflow.run,
            args=[ref, retry_seconds],
            id=transfer_workflow_id(ref),
            task_queue=task_queue,
            id_reuse_policy=TRANSFER_ID_REUSE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return None


POLL_SCHEDULE_PREFIX = "poll-orders/"


def poll_schedule_id(connection: str) -> str:
    return f"{POLL_SCHEDULE_PREFIX}{connection}"


async def ensure_poll_schedule(client: Client, connection: str, task_queue: str, every: timedelta) -> None:
    """Poll the connection's shop every `every`. A round that runs long has the next one wait
    for it and start right after (one is buffered, the rest skipped), not a whole interval later."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            PollOrdersWorkflow.run,
            PollInput(connection),
            id=f"poll-orders/{connection}/run",
            task_queue=poll_queue(task_queue),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
    )
    try:
        await client.create_schedule(poll_schedule_id(connection), schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(poll_schedule_id(connection)).update(replace)
