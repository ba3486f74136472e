"""The poller: every worker process polls the shops of the stored connections, outside Temporal.

Admission into the ledger needs only the shop and the store, so it runs in a plain task of the
worker: a Temporal restart delays transfers, never the ledger, and a killed worker's connection
is polled by another as soon as its turn's lease lapses (seconds). The store hands out turns
(`store.poll_turns`), so one worker polls a connection at a time, whatever the number of
workers and machines. A round admits the orders (`flows/order_polling.py`), then the pending
transfers are started in Temporal in the background: a round never waits on Temporal.

Connections are read again every tick, so one applied, disabled, stopped by a configuration
error or resumed while the workers run is polled, or left alone, from the next tick on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from shopbridge.engine.contracts import OrderRef
from shopbridge.engine.control import start_transfer
from shopbridge.engine.workflows import transfer_workflow_id
from shopbridge.errors import ShopBridgeError
from shopbridge.flows.connection import ConnectorPool, open_order_flow, order_rules
from shopbridge.flows.order_polling import STALE_AFTER, PollLimits, PollResult, poll_orders
from shopbridge.flows.writes import off_loop, renewing
from shopbridge.store import ConnectionRecord, PollTurn, Store, TransferRecord

logger = logging.getLogger(__name__)

# A dead worker's turn is taken by another after this; the holder renews it every second.
TURN_LEASE_SECONDS = 3.0
TURN_RENEW_SECONDS = 1.0
# How often a poller looks for due rounds (and re-reads the connections).
TICK_SECONDS = 0.5
# Transfers started at once, and how long one batch of starts may take (Temporal may be down).
STARTS_IN_FLIGHT = 20
STARTS_TIMEOUT_SECONDS = 30.0
MAX_REMEMBERED_STARTS = 100_000


class RecentStarts:
    """Transfers this worker started, or found running, lately. A backlog waiting for the rate
    budget stays pending (never tried) for minutes, and every round hands it out again: asking
    Temporal to start each one again, only to hear it runs, made rounds take many seconds."""

    def __init__(self, forget_after_seconds: float) -> None:
        self.forget_after = forget_after_seconds
        self._at: dict[str, float] = {}

    def seen(self, workflow_id: str) -> bool:
        return time.monotonic() - self._at.get(workflow_id, -math.inf) < self.forget_after

    def note(self, workflow_id: str) -> None:
        now = time.monotonic()
        if len(self._at) > MAX_REMEMBERED_STARTS:
            self._at = {key: at for key, at in self._at.items() if now - at < self.forget_after}
        self._at[workflow_id] = now


class TransferStarter:
    """Starts an `OrderTransfer` per pending ledger row, at most once a minute per row and worker."""

    def __init__(self, client: Client, task_queue: str, retry_seconds: float = 1.0) -> None:
        self.client = client
        self.task_queue = task_queue
        self.retry_seconds = retry_seconds
        self.recent = RecentStarts(STALE_AFTER.total_seconds())

    async def start(self, refs: Iterable[OrderRef]) -> int:
        """Start each transfer unless it runs or succeeded; returns how many started."""
        gate = asyncio.Semaphore(STARTS_IN_FLIGHT)

        async def start_one(ref: OrderRef) -> bool:
            async with gate:
                started = await start_transfer(self.client, ref, self.task_queue, self.retry_seconds) is not None
            self.recent.note(transfer_workflow_id(ref))
            return started

        due = [ref for ref in refs if not self.recent.seen(transfer_workflow_id(ref))]
        # Every start is awaited before a failure is raised: none is left running unwatched.
        outcomes = await asyncio.gather(*(start_one(ref) for ref in due), return_exceptions=True)
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures:
            raise failures[0]
        return sum(outcome is True for outcome in outcomes)


def pending_refs(connection: str, rows: Iterable[TransferRecord]) -> list[OrderRef]:
    return [OrderRef(connection, row.shop, row.order_id) for row in rows]


async def poll_now(
    store: Store,
    connection: str,
    starter: TransferStarter,
    connectors: ConnectorPool | None = None,
    limits: PollLimits | None = None,
) -> PollResult:
    """Poll a connection now, in this task: rounds until none stops at its bound, then start the
    pending transfers and wait for the starts (operators' one-off polls and tests)."""
    resume_from = None
    while True:
        async with open_order_flow(store, connection, connectors) as flow:
            result = await poll_orders(flow, resume_from=resume_from, limits=limits)
        if result.resume_from is None:
            break
        resume_from = result.resume_from
    await starter.start(pending_refs(connection, result.pending))
    return result


@dataclass(frozen=True)
class _Polled:
    """A connection the poller may poll: its name and how often."""

    id: int
    name: str
    interval_seconds: float


class Poller:
    """Polls every usable connection on its interval, taking turns with the other workers."""

    def __init__(
        self,
        store: Store,
        starter: TransferStarter,
        connectors: ConnectorPool | None = None,
        limits: PollLimits | None = None,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.store = store
        self.starter = starter
        self.connectors = connectors
        self.limits = limits
        self.tick_seconds = tick_seconds
        self._rounds: dict[str, asyncio.Task[None]] = {}
        self._starts: dict[str, asyncio.Task[None]] = {}
        self._unusable: dict[str, str] = {}  # connection → the reason last logged, so it is logged once

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop`; a tick that fails (the database away) is logged and tried again."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception as exc:  # noqa: BLE001 - the poller must outlive a database hiccup
                    logger.warning("poller tick failed: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.tick_seconds)
        finally:
            await self.aclose()

    async def tick(self) -> None:
        """Take the turn of every due connection not polled here yet, and poll it in a task."""
        polled = await off_loop(self._polled)
        idle = [entry for entry in polled if entry.name not in self._rounds]
        due = set(await off_loop(self.store.poll_turns.due, [entry.id for entry in idle]))
        for entry in idle:
            if entry.id not in due:
                continue
            turn = await off_loop(self.store.poll_turns.take, entry.id, TURN_LEASE_SECONDS)
            if turn is not None:
                self._rounds[entry.name] = _tracked(self._rounds, entry.name, self._round(entry, turn))

    async def aclose(self) -> None:
        tasks = [*self._rounds.values(), *self._starts.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _polled(self) -> list[_Polled]:
        found = []
        for record in self.store.connections.list():
            if record.enabled and record.status == "ok" and (interval := self._interval(record)) is not None:
                found.append(_Polled(record.id, record.name, interval))
        return found

    def _interval(self, record: ConnectionRecord) -> float | None:
        try:
            interval = order_rules(record).poll_interval_seconds
        except ShopBridgeError as exc:
            if self._unusable.get(record.name) != str(exc):
                logger.warning("connection %s not polled: %s", record.name, exc)
                self._unusable[record.name] = str(exc)
            return None
        self._unusable.pop(record.name, None)
        return interval

    async def _round(self, entry: _Polled, turn: PollTurn) -> None:
        """One round under the turn's lease; the next is due an interval after this one began
        (at once when this one stopped at its bound or ran longer than the interval). A turn
        lost to a stall only means another worker polls too: admission is idempotent."""
        began = time.monotonic()
        resume_from = None
        renew = functools.partial(self.store.poll_turns.renew, turn, TURN_LEASE_SECONDS)
        try:
            opened = open_order_flow(self.store, entry.name, self.connectors)
            async with renewing(renew, TURN_RENEW_SECONDS), opened as flow:
                result = await poll_orders(flow, resume_from=turn.resume_from, limits=self.limits)
            resume_from = result.resume_from
            self._start_in_background(entry.name, pending_refs(entry.name, result.pending))
        except ShopBridgeError as exc:
            # The next round carries on from the last committed page; a config error stopped the connection.
            logger.warning("poll of %s failed: %s", entry.name, exc)
        except Exception:
            logger.exception("poll of %s failed", entry.name)
        finally:
            next_in = 0.0 if resume_from is not None else entry.interval_seconds - (time.monotonic() - began)
            with contextlib.suppress(Exception):  # the lease then lapses and a later tick takes the turn
                await off_loop(self.store.poll_turns.finish, turn, next_in, resume_from)

    def _start_in_background(self, connection: str, refs: list[OrderRef]) -> None:
        """Start the transfers without holding up the next round; while a connection's starts
        are still under way (Temporal slow or down) the next round's are left to a later one,
        since the rows stay pending."""
        if not refs or connection in self._starts:
            return
        self._starts[connection] = _tracked(self._starts, connection, self._start(connection, refs))

    async def _start(self, connection: str, refs: list[OrderRef]) -> None:
        try:
            await asyncio.wait_for(self.starter.start(refs), STARTS_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - Temporal away: the rows stay pending for the next round
            logger.warning("transfers of %s not started: %s", connection, exc)


def _tracked(tasks: dict[str, asyncio.Task[None]], key: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """`work` in a task that leaves `tasks` when it ends."""
    task = asyncio.create_task(work)
    task.add_done_callback(lambda _: tasks.pop(key, None))
    return task
