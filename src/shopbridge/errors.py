"""ShopBridge's error hierarchy; the class of an error is its retry policy.

    ShopBridgeError
    ├── TransientError      retry with back-off (timeouts, 429, 5xx, dropped connections)
    ├── ConfigError         stop the connection's flow and tell the operator (bad key, 401/403)
    └── DataError           park this one record with a readable reason; the rest flow on

Errors carry the remote system, the operation, the HTTP status and a redacted excerpt of the
response body, so an operator can see why without the logs. Only `engine/` turns them into
Temporal's `ApplicationError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXCERPT_LIMIT = 500
_SECRET_PATTERNS = (
    re.compile(r"(?i)(basic|bearer)(\s+)([A-Za-z0-9+/=._-]+)"),
    re.compile(r"(?i)(ws_key|token|secret|password|passwd|authorization)([\"'=:\s]+)([^\s\"'&<,}]+)"),
)


def redact(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """Shorten a remote body and blank anything that looks like a credential."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class ShopBridgeError(Exception):
    """Base of every error ShopBridge raises on purpose."""

    message: str
    system: str = ""
    operation: str = ""
    status: int | None = None
    body_excerpt: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.message)
        self.body_excerpt = redact(self.body_excerpt)

    def __str__(self) -> str:
        where = " ".join(part for part in (self.system, self.operation) if part)
        status = f" (HTTP {self.status})" if self.status is not None else ""
        prefix = f"{where}{status}: " if where or status else ""
        return f"{prefix}{self.message}"


@dataclass
class TransientError(ShopBridgeError):
    """Worth retrying: the remote side is slow, busy or briefly broken."""

    retry_after: float | None = None


@dataclass
class ConfigError(ShopBridgeError):
    """The connection is set up wrong; retrying will not help until someone fixes it."""


@dataclass
class DataError(ShopBridgeError):
    """This record cannot be processed as it is; park it and carry on with the others."""


# Status-to-error table: data, not a cascade of ifs. Statuses not listed fall back by class
# (4xx → DataError, 5xx → TransientError).
STATUS_ERRORS: dict[int, type[ShopBridgeError]] = {
    401: ConfigError,
    403: ConfigError,
    404: DataError,
    405: ConfigError,
    408: TransientError,
    409: TransientError,
    425: TransientError,
    429: TransientError,
    500: TransientError,
    502: TransientError,
    503: TransientError,
    504: TransientError,
}


def error_for_status(status: int) -> type[ShopBridgeError]:
    """The error class a remote HTTP status maps to."""
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    return TransientError if status >= 500 else DataError
