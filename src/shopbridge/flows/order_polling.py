"""Polling the shop for changed orders: the safety net under webhooks.

The cursor follows ARCHITECTURE.md rule 2: it moves only after the page it covers is committed
to the ledger, each run starts an overlap window before it, and it never passes the time the
run started, so an order changed while we read is picked up next time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shopbridge.errors import ConfigError
from shopbridge.flows.order_transfer import OrderFlow
from shopbridge.store import TransferRecord

ORDERS_CURSOR = "orders"


@dataclass(frozen=True)
class PollResult:
    seen: int
    admitted: list[str]
    pending: list[TransferRecord]


async def poll_orders(flow: OrderFlow, now: datetime | None = None) -> PollResult:
    """Admit every triggered order changed since the cursor; return all transfers still pending.

    A configuration error (a revoked shop key) stops the connection, as it does for a transfer,
    so its status says why every poll fails.
    """
    try:
        return await _poll(flow, now)
    except ConfigError as exc:
        flow.stop_connection(str(exc))
        raise


async def _poll(flow: OrderFlow, now: datetime | None) -> PollResult:
    run_start = now or datetime.now(UTC)
    cursors = flow.store.cursors
    connection_id = flow.connection.id
    last = cursors.get(connection_id, ORDERS_CURSOR)
    if last is None:
        last = run_start - timedelta(hours=flow.rules.initial_lookback_hours)
    since = last - timedelta(seconds=flow.rules.overlap_seconds)
    seen = 0
    admitted: list[str] = []
    async for page in flow.source.order_changes(since, run_start):
        for summary in page:
            seen += 1
            tid = await flow.admit_summary(summary)
            if tid is not None:
                admitted.append(tid)
        if page:
            cursors.advance(connection_id, ORDERS_CURSOR, min(max(s.updated_at for s in page), run_start))
    return PollResult(seen=seen, admitted=admitted, pending=flow.store.ledger.pending(connection_id))
