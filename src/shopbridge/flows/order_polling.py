"""Polling the shop for changed orders: the safety net under webhooks.

The cursor follows ARCHITECTURE.md rule 2: it moves only after the page it covers is committed
to the ledger, each run starts an overlap window before it, and it never passes the time the
run started, so an order changed while we read is picked up next time.

A round is bounded (pages and a deadline) and keeps up under faults: a page that fails is read
again from the last committed page a few times, short pauses apart, and a round cut short by its
bound says where the next one resumes (without the overlap, so a backlog bigger than the overlap
window still drains). The status histories of a page's untriggered orders are read in one call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shopbridge.connectors.calls import urgent_calls
from shopbridge.errors import ConfigError, TransientError
from shopbridge.flows.order_transfer import OrderFlow
from shopbridge.flows.writes import off_loop
from shopbridge.store import TransferRecord

ORDERS_CURSOR = "orders"
# A pending transfer that was tried lately has a workflow retrying it: starting it again each round
# only costs. One never tried, or untouched this long, is handed out to be started (a start of a
# transfer that is running is refused by Temporal, so handing one out twice is harmless).
STALE_AFTER = timedelta(seconds=60)
Progress = Callable[[datetime], None]


@dataclass(frozen=True)
class PollLimits:
    """How much one round may do before it hands the rest to the next one."""

    max_pages: int = 50
    deadline_seconds: float = 60.0
    # A failing page is read again this many times in a row before the round gives up.
    page_retries: int = 5
    # Pause before reading a failed page again; a longer Retry-After is capped to this.
    max_pause_seconds: float = 5.0
    first_pause_seconds: float = 0.5


@dataclass(frozen=True)
class PollResult:
    seen: int
    admitted: list[str]
    # Pending transfers to start: never tried, or not touched for STALE_AFTER.
    pending: list[TransferRecord]
    # Set when the round stopped at its bound: where the next round resumes reading.
    resume_from: datetime | None = None


@dataclass
class _Round:
    """One round's reading position and counts."""

    since: datetime
    until: datetime
    deadline: float
    started_at: datetime
    seen: int = 0
    pages: int = 0
    failures: int = 0
    complete: bool = False


async def poll_orders(
    flow: OrderFlow,
    now: datetime | None = None,
    *,
    resume_from: datetime | None = None,
    limits: PollLimits | None = None,
    progress: Progress | None = None,
) -> PollResult:
    """Admit every triggered order changed since the cursor (or `resume_from`); return the
    pending transfers to start and, if the round hit its bound, where to resume.

    A configuration error (a revoked shop key) stops the connection, as it does for a transfer,
    so its status says why every poll fails.
    """
    try:
        # The round's calls go ahead of transfers waiting for the same rate budget: they admit the orders.
        with urgent_calls():
            return await _poll(flow, now, resume_from, limits or PollLimits(), progress)
    except ConfigError as exc:
        await off_loop(flow.stop_connection, str(exc))
        raise


async def _poll(
    flow: OrderFlow, now: datetime | None, resume_from: datetime | None, limits: PollLimits, progress: Progress | None
) -> PollResult:
    run_start = now or datetime.now(UTC)
    if resume_from is None:
        resume_from = await off_loop(_overlapped_start, flow, run_start)
    since = min(resume_from, run_start)
    state = _Round(since, run_start, time.monotonic() + limits.deadline_seconds, started_at=since)
    admitted: list[str] = []
    while True:
        try:
            await _read_pages(flow, state, limits, admitted, progress)
            break
        except TransientError as exc:
            await _pause_after(exc, state, limits)
    # A round cut by its deadline before it got past its first timestamp leaves it to the schedule.
    resume = None if state.complete or state.since <= state.started_at else state.since
    return PollResult(state.seen, admitted, await off_loop(to_start, flow), resume_from=resume)


def to_start(flow: OrderFlow) -> list[TransferRecord]:
    stale = datetime.now(UTC) - STALE_AFTER
    rows = flow.store.ledger.pending(flow.connection.id)
    return [row for row in rows if row.attempts == 0 or row.updated_at < stale]


def _overlapped_start(flow: OrderFlow, run_start: datetime) -> datetime:
    last = flow.store.cursors.get(flow.connection.id, ORDERS_CURSOR)
    if last is None:
        last = run_start - timedelta(hours=flow.rules.initial_lookback_hours)
    return last - timedelta(seconds=flow.rules.overlap_seconds)


async def _read_pages(
    flow: OrderFlow, state: _Round, limits: PollLimits, admitted: list[str], progress: Progress | None
) -> None:
    """Read from `state.since` to the end or the bound, committing page by page. A failure
    leaves `state.since` at the last committed page."""
    async for page in flow.source.order_changes(state.since, state.until):
        admitted.extend(await flow.admit_changes(page))
        state.seen += len(page)
        state.pages += 1
        state.failures = 0  # the pause after a failure grows with failures in a row, not in the round
        if page:
            newest = min(max(s.updated_at for s in page), state.until)
            await off_loop(flow.store.cursors.advance, flow.connection.id, ORDERS_CURSOR, newest)
            # Read again from the newest committed change (inclusive): admission is idempotent.
            state.since = max(state.since, newest)
            if progress is not None:
                progress(state.since)
        if not _within_bounds(state, limits):
            return
    state.complete = True


def _within_bounds(state: _Round, limits: PollLimits) -> bool:
    """The page bound counts only once the round got past its first timestamp: a resumed round
    reads its starting timestamp again, and every order of it must fit in one round."""
    pages_left = state.pages < limits.max_pages or state.since <= state.started_at
    return pages_left and time.monotonic() < state.deadline


async def _pause_after(exc: TransientError, state: _Round, limits: PollLimits) -> None:
    """Wait a little before reading the failed page again; give up after `page_retries`."""
    state.failures += 1
    if state.failures > limits.page_retries or time.monotonic() >= state.deadline:
        raise exc
    backoff = limits.first_pause_seconds * 2 ** (state.failures - 1)
    await asyncio.sleep(min(exc.retry_after or backoff, limits.max_pause_seconds))
