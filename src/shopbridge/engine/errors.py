"""Turn ShopBridge errors into Temporal's: the error class decides whether Temporal retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError

NON_RETRYABLE = (ConfigError, DataError)


def to_application_error(exc: ShopBridgeError) -> ApplicationError:
    delay = None
    if isinstance(exc, TransientError) and exc.retry_after is not None:
        delay = timedelta(seconds=max(0.0, exc.retry_after))
    return ApplicationError(
        str(exc), type=type(exc).__name__, non_retryable=isinstance(exc, NON_RETRYABLE), next_retry_delay=delay
    )


@asynccontextmanager
async def temporal_errors() -> AsyncIterator[None]:
    try:
        yield
    except ShopBridgeError as exc:
        raise to_application_error(exc) from exc
