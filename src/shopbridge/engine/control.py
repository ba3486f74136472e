"""Start workflows from outside the worker: webhooks, operator retries, the poller."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from shopbridge.engine.contracts import OrderRef, TransferOutput
from shopbridge.engine.workflows import TRANSFER_ID_REUSE, OrderTransferWorkflow, transfer_workflow_id


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
