"""start_transfers asks Temporal once per transfer a minute, not once per poll round."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.testing import ActivityEnvironment

from shopbridge.engine.activities import OrderActivities
from shopbridge.engine.contracts import OrderRef, StartTransfersInput
from shopbridge.store import Store


class RunningEverywhere:
    """A Temporal client stand-in on which every transfer already runs; it counts the start requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def start_workflow(self, *args: Any, id: str, **kwargs: Any) -> Any:  # noqa: A002 - Temporal's name
        self.requests.append(id)
        raise WorkflowAlreadyStartedError(id, "OrderTransfer")


async def test_a_backlog_handed_out_by_every_round_is_started_once(store: Store) -> None:
    client = RunningEverywhere()
    activities = OrderActivities(store, client=client, task_queue="transfers")  # type: ignore[arg-type]
    backlog = [OrderRef("shop-a", "1", str(number)) for number in range(30)]
    environment = ActivityEnvironment()
    for _ in range(3):  # three rounds hand out the same backlog, waiting for the rate budget
        await environment.run(activities.start_transfers, StartTransfersInput(backlog, 1.0))
    assert sorted(client.requests) == sorted(f"shop-a/1/{number}" for number in range(30))
    newcomer = OrderRef("shop-a", "1", "31")
    await environment.run(activities.start_transfers, StartTransfersInput([*backlog, newcomer], 1.0))
    assert client.requests[-1] == "shop-a/1/31" and len(client.requests) == 31
