"""Turn ShopBridge errors into Temporal's: the error class decides whether Temporal retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError
from shopbridge.store import ConnectionNotFound, TransferNotFound

# Temporal matches non-retryable errors by type name only; a bare "DataError" would also catch
# SQLAlchemy's and psycopg's DataError, so every type we raise carries this prefix.
TYPE_PREFIX = "ShopBridge."
NON_RETRYABLE = (ConfigError, DataError)
NOT_FOUND_TYPE = f"{TYPE_PREFIX}NotFound"
# What is missing from our own store will not appear by retrying; a KeyError elsewhere is a bug.
NOT_FOUND = (ConnectionNotFound, TransferNotFound)
NON_RETRYABLE_TYPES = [f"{TYPE_PREFIX}{cls.__name__}" for cls in NON_RETRYABLE] + [NOT_FOUND_TYPE]


def error_type(name: str) -> str:
    """The ApplicationError type for one of our own error names."""
    return f"{TYPE_PREFIX}{name}"


def to_application_error(exc: ShopBridgeError) -> ApplicationError:
    delay = None
    if isinstance(exc, TransientError) and exc.retry_after is not None:
        delay = timedelta(seconds=max(0.0, exc.retry_after))
    return ApplicationError(
        str(exc),
        type=error_type(type(exc).__name__),
        non_retryable=isinstance(exc, NON_RETRYABLE),
        next_retry_delay=delay,
    )


@asynccontextmanager
async def temporal_errors() -> AsyncIterator[None]:
    """Ours become typed ApplicationErrors, a missing connection or transfer a non-retryable one."""
    try:
        yield
    except ShopBridgeError as exc:
        # Without the cause chain: the message already says why, and a chain of transport
        # errors each with its stack makes the server replace the failure with
        # "Failure exceeds size limit." (about 4 KB for an activity's last failure).
        raise to_application_error(exc) from None
    except LookupError as exc:
        if not isinstance(exc, NOT_FOUND) and type(exc) is not LookupError:
            raise
        raise ApplicationError(str(exc), type=NOT_FOUND_TYPE, non_retryable=True) from exc
