"""The worker's wiring: connectors live as long as the worker and close with it."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.worker import build_worker
from shopbridge.flows.connection import ConnectorPool, open_order_flow
from shopbridge.store import Store
from tests.conftest import World


async def test_the_worker_closes_its_connectors_when_it_stops(
    temporal_env: WorkflowEnvironment, task_queue: str, world: World, store: Store
) -> None:
    apply_connection(store, world.connection())
    pool = ConnectorPool()
    async with build_worker(temporal_env.client, store, task_queue, connectors=pool):
        async with open_order_flow(store, world.name, pool) as flow:
            pass
        assert not flow.source._http.is_closed  # type: ignore[attr-defined]
    assert flow.source._http.is_closed and flow.sink._http.is_closed  # type: ignore[attr-defined]
