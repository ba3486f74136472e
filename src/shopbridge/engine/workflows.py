"""Workflows: thin and deterministic; every decision lives in the flows behind the activities."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from shopbridge.engine.contracts import (
        OrderRef,
        TransferInput,
        TransferOutput,
    )
    from shopbridge.engine.errors import NON_RETRYABLE_TYPES, error_type
    from shopbridge.flows.ids import transfer_id

ACTIVITY_TIMEOUT = timedelta(minutes=2)
# Activities heartbeat every 2 s: a killed worker's attempt is retried after this, not the timeout.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# A parked or failed transfer may run again under its id (operator retry, fixed config);
# a transferred one may not.
TRANSFER_ID_REUSE = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY


# Back-off doubles from the first interval up to this many times it (1 s → 30 s): a transfer
# waiting minutes after the remote recovered is a backlog that drains minutes late; a longer
# Retry-After still wins.
BACKOFF_CEILING = 30


def activity_retry(initial_seconds: float) -> RetryPolicy:
    """Retry transient failures forever with capped exponential back-off; Retry-After wins."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=initial_seconds),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=initial_seconds * BACKOFF_CEILING),
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    )


@workflow.defn(name="OrderTransfer")
class OrderTransferWorkflow:
    """One shop order to the ERP. The workflow id is the transfer id."""

    @workflow.run
    async def run(self, ref: OrderRef, retry_seconds: float = 1.0) -> TransferOutput:
        retry = activity_retry(retry_seconds)
        result: TransferOutput = await workflow.execute_activity(
            "transfer_order",
            ref,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=retry,
            result_type=TransferOutput,
        )
        if result.state == "not_triggered":
            # Ending as failed keeps the id free for the transfer once the order reaches a trigger status.
            raise ApplicationError(
                f"not transferred: {result.reason}", type=error_type("NotTriggered"), non_retryable=True
            )
        if result.state == "parked":
            # Ending as failed lets an operator's retry reuse the transfer id.
            raise ApplicationError(f"parked: {result.reason}", type=error_type("Parked"), non_retryable=True)
        if result.check_after_seconds > 0:
            # A write's outcome was unknown on the way: once the ERP has settled, remove strays.
            await workflow.sleep(timedelta(seconds=result.check_after_seconds))
            await workflow.execute_activity(
                "check_strays",
                TransferInput(ref.connection, result.transfer_id),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=retry,
                result_type=int,
            )
        return result


def transfer_workflow_id(ref: OrderRef) -> str:
    return transfer_id(ref.connection, ref.shop, ref.order_id)
