"""One sync run now, in this process (`shopbridge sync orders`), without the engine.

The ledger's claim and the ERP lookup by reference guard it against a worker doing the same
order at the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shopbridge.errors import ConfigError, ShopBridgeError
from shopbridge.flows.connection import open_order_flow
from shopbridge.flows.order_polling import poll_orders
from shopbridge.store import Store

Progress = Callable[[int, int], None]


@dataclass
class SyncReport:
    seen: int = 0
    transferred: int = 0
    parked: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)


async def sync_orders_now(store: Store, connection: str, progress: Progress | None = None) -> SyncReport:
    async with open_order_flow(store, connection) as flow:
        polled = await poll_orders(flow)
        report = SyncReport(seen=polled.seen)
        for done, row in enumerate(polled.pending, start=1):
            tid = row.transfer_id
            try:
                outcome = await flow.transfer(tid)
            except ConfigError as exc:
                # The whole connection is misconfigured: stop rather than fail every order alike.
                report.pending += len(polled.pending) - done + 1
                report.problems.append(f"stopped: {exc}")
                break
            except ShopBridgeError as exc:
                report.pending += 1
                report.problems.append(f"{tid}: {exc}")
            else:
                report.transferred += outcome.state == "transferred"
                report.parked += outcome.state == "parked"
                if outcome.state == "parked":
                    report.problems.append(f"{tid}: parked: {outcome.reason}")
            if progress is not None:
                progress(done, len(polled.pending))
        return report
