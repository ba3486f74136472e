"""What an ERP write's failure says about whether it committed, and how long to wait if unknown.

Most ERP APIs have no idempotency key, and a POST that timed out or lost its answer may commit
seconds later (LESSONS.md, "the write that commits after the client gave up"). Only an answer
that proves the request was refused before it was processed lets the next attempt write at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import ParamSpec, TypeVar

from shopbridge.errors import ShopBridgeError, TransientError

# 429: the request was turned away by the rate limiter, before anything ran.
REFUSED_BEFORE_PROCESSING = frozenset({429})

P = ParamSpec("P")
R = TypeVar("R")


def surely_not_committed(error: ShopBridgeError) -> bool:
    """True only when the failure proves the write did not happen."""
    return not isinstance(error, TransientError) or error.status in REFUSED_BEFORE_PROCESSING


async def off_loop(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking store call in a thread, so a database wait never stalls the event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


@asynccontextmanager
async def renewing(renew: Callable[[], bool], every_seconds: float) -> AsyncIterator[None]:
    """Keep a lease alive while the block runs; a lost lease simply stops the renewals."""

    async def keep_alive() -> None:
        while True:
            await asyncio.sleep(every_seconds)
            if not await off_loop(renew):
                return

    task = asyncio.create_task(keep_alive())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def wait_for_settled_write(not_before: datetime | None, now: datetime) -> None:
    """Refuse to go on before an earlier write whose outcome is unknown has surely settled."""
    if not_before is not None and now < not_before:
        raise TransientError(
            "an earlier write's outcome is unknown; waiting for the ERP to settle before looking again",
            retry_after=(not_before - now).total_seconds(),
        )
