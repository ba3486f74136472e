"""Poll schedules kept in step with the stored connections, at start-up and while running.

A connection applied while the engine runs gets its schedule at the next reconcile; one that is
disabled or stopped by a configuration error loses it (so it stops failing every round), and
gets it back once resumed or re-applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from shopbridge.engine.control import POLL_SCHEDULE_PREFIX, ensure_poll_schedule, poll_schedule_id
from shopbridge.flows.connection import order_rules
from shopbridge.store import Store

logger = logging.getLogger(__name__)


def wanted_schedules(store: Store) -> dict[str, timedelta]:
    """Poll interval of every connection that should be polled now."""
    return {
        record.name: timedelta(seconds=order_rules(record).poll_interval_seconds)
        for record in store.connections.list()
        if record.enabled and record.status == "ok"
    }


class ScheduleKeeper:
    """Creates, updates and removes poll schedules; remembers what it set to avoid churn."""

    def __init__(self, client: Client, store: Store, task_queue: str) -> None:
        self.client = client
        self.store = store
        self.task_queue = task_queue
        self._set: dict[str, timedelta] | None = None

    async def reconcile(self) -> None:
        wanted = wanted_schedules(self.store)
        known = self._set if self._set is not None else await self._existing()
        for name, every in wanted.items():
            if known.get(name) != every:
                await ensure_poll_schedule(self.client, name, self.task_queue, every)
        for name in set(known) - set(wanted):
            await remove_poll_schedule(self.client, name)
        self._set = wanted

    async def run(self, stop: asyncio.Event, every_seconds: float) -> None:
        """Reconcile every `every_seconds` until `stop`; a failed round is logged and retried."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_seconds)
            if not stop.is_set():
                await self._round()

    async def _round(self) -> None:
        try:
            await self.reconcile()
        except (RPCError, RuntimeError) as exc:
            logger.warning("poll schedules not reconciled: %s", exc)
            self._set = None  # ask the server next time

    async def _existing(self) -> dict[str, timedelta]:
        """Our schedules on the server (intervals unknown, so each wanted one is rewritten once)."""
        found: dict[str, timedelta] = {}
        async for listed in await self.client.list_schedules():
            if listed.id.startswith(POLL_SCHEDULE_PREFIX):
                found[listed.id.removeprefix(POLL_SCHEDULE_PREFIX)] = timedelta(0)
        return found


async def remove_poll_schedule(client: Client, connection: str) -> None:
    try:
        await client.get_schedule_handle(poll_schedule_id(connection)).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
