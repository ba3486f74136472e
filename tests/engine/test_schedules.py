"""Poll schedules follow the stored connections: applied later, disabled, stopped, resumed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, ScheduleOverlapPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.control import ensure_poll_schedule, poll_schedule_id
from shopbridge.engine.runtime import run_services
from shopbridge.engine.schedules import ScheduleKeeper
from shopbridge.settings import Settings
from shopbridge.store import Store
from tests.conftest import World

SHOPBRIDGE = str(Path(sys.executable).parent / "shopbridge")


async def has_schedule(client: Client, connection: str) -> bool:
    try:
        await client.get_schedule_handle(poll_schedule_id(connection)).describe()
    except RPCError:
        return False
    return True


async def test_reconcile_adds_new_connections_and_removes_disabled_and_stopped_ones(
    temporal_env: WorkflowEnvironment, world: World, store: Store, task_queue: str
) -> None:
    client = temporal_env.client
    keeper = ScheduleKeeper(client, store, task_queue)
    first, second = f"{world.name}-a", f"{world.name}-b"
    apply_connection(store, world.connection(name=first))
    await keeper.reconcile()
    assert await has_schedule(client, first) and not await has_schedule(client, second)
    apply_connection(store, world.connection(name=second))
    store.connections.set_enabled(first, False)
    await keeper.reconcile()
    assert await has_schedule(client, second) and not await has_schedule(client, first)
    store.connections.set_status(second, "config_error", "401 from the shop")
    await keeper.reconcile()
    assert not await has_schedule(client, second)
    store.connections.set_status(second, "ok")
    await keeper.reconcile()
    assert await has_schedule(client, second)
    store.connections.set_enabled(second, False)
    await keeper.reconcile()


async def test_a_connection_applied_while_running_gets_a_schedule(
    temporal_env: WorkflowEnvironment, world: World, tmp_path: Path, task_queue: str
) -> None:
    address = temporal_env.client.service_client.config.target_host
    settings = Settings(data_dir=tmp_path, temporal_address=address, task_queue=task_queue,
                        schedule_reconcile_seconds=0.2)  # fmt: skip
    stop = asyncio.Event()
    runner = asyncio.create_task(run_services(settings, stop, web=False))
    try:
        await asyncio.sleep(1.0)
        with Store.open(settings) as running_store:
            apply_connection(running_store, world.connection(name=f"{world.name}-late"))
        for _ in range(50):
            if await has_schedule(temporal_env.client, f"{world.name}-late"):
                break
            await asyncio.sleep(0.2)
        assert await has_schedule(temporal_env.client, f"{world.name}-late")
        with Store.open(settings) as running_store:
            running_store.connections.set_enabled(f"{world.name}-late", False)
        for _ in range(50):
            if not await has_schedule(temporal_env.client, f"{world.name}-late"):
                break
            await asyncio.sleep(0.2)
        assert not await has_schedule(temporal_env.client, f"{world.name}-late")
    finally:
        stop.set()
        await runner


async def test_connections_disable_removes_the_schedule_when_temporal_is_reachable(
    temporal_env: WorkflowEnvironment, world: World, tmp_path: Path, task_queue: str
) -> None:
    address = temporal_env.client.service_client.config.target_host
    env = {**os.environ, "SHOPBRIDGE_DATA_DIR": str(tmp_path), "SHOPBRIDGE_TEMPORAL_ADDRESS": address,
           "SHOPBRIDGE_TASK_QUEUE": task_queue}  # fmt: skip
    env.pop("SHOPBRIDGE_DATABASE_URL", None)
    name = f"{world.name}-cli"
    settings = Settings(data_dir=tmp_path, database_url=None, temporal_address=address, task_queue=task_queue)
    with Store.open(settings) as store:
        apply_connection(store, world.connection(name=name))
        await ScheduleKeeper(temporal_env.client, store, task_queue).reconcile()
    assert await has_schedule(temporal_env.client, name)
    command = [SHOPBRIDGE, "connections", "disable", name]
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not await has_schedule(temporal_env.client, name)


async def test_a_round_that_runs_long_has_the_next_one_start_right_after_it(
    temporal_env: WorkflowEnvironment, world: World, task_queue: str
) -> None:
    # Skipping overlapping rounds left a whole interval idle after every slow round under faults.
    client = temporal_env.client
    await ensure_poll_schedule(client, world.name, task_queue, timedelta(seconds=5))
    handle = client.get_schedule_handle(poll_schedule_id(world.name))
    try:
        policy = (await handle.describe()).schedule.policy
        assert policy.overlap is ScheduleOverlapPolicy.BUFFER_ONE
    finally:
        await handle.delete()
