from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from shopbridge.engine.errors import temporal_errors, to_application_error
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError


@pytest.mark.parametrize(
    ("error", "retryable"), [(TransientError("busy"), True), (ConfigError("401"), False), (DataError("sku"), False)]
)
def test_error_class_decides_whether_temporal_retries(error: ShopBridgeError, retryable: bool) -> None:
    converted = to_application_error(error)
    assert converted.non_retryable is not retryable
    assert converted.type == type(error).__name__


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
