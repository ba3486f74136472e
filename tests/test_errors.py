from __future__ import annotations

import pytest

from shopbridge.errors import ConfigError, DataError, TransientError, error_for_status, redact


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, ConfigError), (403, ConfigError), (400, DataError), (404, DataError), (422, DataError),
     (429, TransientError), (500, TransientError), (503, TransientError), (599, TransientError)],
)
def test_status_maps_to_the_error_class_that_is_its_retry_policy(status: int, expected: type) -> None:
    assert error_for_status(status) is expected


def test_redact_blanks_credentials_in_bodies() -> None:
    text = redact('GET /api/?ws_key=ABCDEF123 {"token": "s3cret"} Authorization: Basic QUJD')
    assert "ABCDEF123" not in text and "s3cret" not in text and "QUJD" not in text


def test_redact_shortens_long_bodies() -> None:
    assert len(redact("x" * 5000)) <= 501


def test_error_message_names_system_operation_and_status() -> None:
    error = DataError("unknown product", system="economic", operation="POST /invoices/drafts", status=400)
    assert str(error) == "economic POST /invoices/drafts (HTTP 400): unknown product"


def test_error_body_excerpt_is_redacted_on_creation() -> None:
    error = TransientError("busy", body_excerpt="password=hunter2")
    assert "hunter2" not in error.body_excerpt
