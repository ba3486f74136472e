"""The connector pool: one connector pair per connection per process, renewed when it changes."""

from __future__ import annotations

from typing import Any

from shopbridge.connection_file import apply_connection
from shopbridge.flows.connection import ConnectorPool, open_order_flow
from shopbridge.store import Store
from tests.conftest import World


def http_of(side: Any) -> Any:
    return side._http


async def test_flows_of_one_connection_share_one_connector_pair(world: World, store: Store) -> None:
    apply_connection(store, world.connection())
    pool = ConnectorPool()
    async with open_order_flow(store, world.name, pool) as first, open_order_flow(store, world.name, pool) as second:
        assert first.source is second.source and first.sink is second.sink
    async with open_order_flow(store, world.name, pool) as later:
        assert later.source is first.source
    await pool.aclose()
    assert http_of(first.source).is_closed and http_of(first.sink).is_closed


async def test_a_reapplied_change_gets_fresh_connectors_and_the_old_close_after_their_last_user(
    world: World, store: Store
) -> None:
    apply_connection(store, world.connection())
    pool = ConnectorPool()
    async with open_order_flow(store, world.name, pool) as running:
        apply_connection(store, world.connection(document="order"))
        async with open_order_flow(store, world.name, pool) as changed:
            assert changed.source is not running.source
            assert not http_of(running.source).is_closed  # still in use by the running flow
    assert http_of(running.source).is_closed and http_of(running.sink).is_closed
    assert not http_of(changed.source).is_closed
    await pool.aclose()


async def test_without_a_pool_the_flow_closes_its_own_connectors(world: World, store: Store) -> None:
    apply_connection(store, world.connection())
    async with open_order_flow(store, world.name) as flow:
        pass
    assert http_of(flow.source).is_closed and http_of(flow.sink).is_closed
