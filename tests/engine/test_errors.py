from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy.exc
from temporalio.exceptions import ApplicationError

from shopbridge.engine.errors import NON_RETRYABLE_TYPES, temporal_errors, to_application_error
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError
from shopbridge.store import ConnectionNotFound


@pytest.mark.parametrize(
    ("error", "retryable"), [(TransientError("busy"), True), (ConfigError("401"), False), (DataError("sku"), False)]
)
def test_error_class_decides_whether_temporal_retries(error: ShopBridgeError, retryable: bool) -> None:
    converted = to_application_error(error)
    assert converted.non_retryable is not retryable
    assert converted.type == f"ShopBridge.{type(error).__name__}"


def test_retry_after_becomes_the_next_retry_delay() -> None:
    converted = to_application_error(TransientError("slow down", retry_after=2.5))
    assert converted.next_retry_delay == timedelta(seconds=2.5)


async def test_context_converts_only_shopbridge_errors() -> None:
    with pytest.raises(ApplicationError, match="unknown SKU"):
        async with temporal_errors():
            raise DataError("unknown SKU")
    with pytest.raises(KeyError):
        async with temporal_errors():
            raise KeyError("a bug stays a bug")


def test_a_database_data_error_is_not_taken_for_ours() -> None:
    # Temporal matches by type name: SQLAlchemy's and psycopg's DataError must stay retryable.
    assert "DataError" not in NON_RETRYABLE_TYPES
    assert all(name.startswith("ShopBridge.") for name in NON_RETRYABLE_TYPES)


async def test_a_lookup_error_subclass_stops_retrying() -> None:
    with pytest.raises(ApplicationError) as raised:
        async with temporal_errors():
            raise ConnectionNotFound("no connection named acme")
    assert raised.value.non_retryable
    assert raised.value.type in NON_RETRYABLE_TYPES


async def test_a_database_error_passes_through_unconverted() -> None:
    with pytest.raises(sqlalchemy.exc.DataError):
        async with temporal_errors():
            raise sqlalchemy.exc.DataError("INSERT", {}, Exception("invalid byte sequence"))
