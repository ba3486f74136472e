"""Webhook receivers: per-connection secrets checked before a byte is parsed, pluggable body readers.

A shop that can sign sends `X-ShopBridge-Signature: sha256=<hex HMAC-SHA256 of the raw body>`;
one that cannot puts the secret in the path (`/webhooks/{connection}/{secret}/orders`). An
unknown connection and a wrong secret look the same from outside (401).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from shopbridge.connection_file import WEBHOOK_SECRET_KEY
from shopbridge.connectors.norce.translate import event_hint, push_hint
from shopbridge.connectors.starweb.translate import webhook_hints
from shopbridge.store import ConnectionRecord

SIGNATURE_HEADER = "X-ShopBridge-Signature"
SIGNATURE_SCHEME = "sha256="
# An order notification is a few hundred bytes; shops that push whole orders stay far below this.
MAX_BODY_BYTES = 256 * 1024
# Compared against when the connection is unknown, so both refusals take the same time.
_DECOY_SECRET = secrets.token_urlsafe(32)


class OrderWebhook(BaseModel):
    """What a shop module posts when an order is placed or changes status."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")
    shop: str = Field(default="1", min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")


def read_order_webhook(body: bytes, shop: Mapping[str, Any] | None = None) -> OrderWebhook:
    """Our own JSON payload `{"id": "...", "shop": "..."}` (the PrestaShop module sends it)."""
    return OrderWebhook.model_validate_json(body)


def read_starweb_webhook(body: bytes, shop: Mapping[str, Any] | None = None) -> OrderWebhook:
    """Starweb's order event (`shopIdCode`, `orderId`): a hint to read that order again."""
    hints = webhook_hints(json.loads(body))
    if not hints:
        raise ValueError("the webhook names no order")
    shop_code, order_id = hints[0]
    return OrderWebhook(id=order_id, shop=shop_code)


def read_norce_event(body: bytes, shop: Mapping[str, Any] | None = None) -> OrderWebhook:
    """Norce's pushed order (`Header.ApplicationKey`, `ClientOrderRef`: the channel found by its key
    among the connection's channels) or order event (`ApplicationId`, `OrderNo`)."""
    payload = json.loads(body)
    if isinstance(payload, dict) and "Header" in payload:
        channels = (shop or {}).get("channels") or []
        keys = {str(channel["application_key"]): str(channel["application_id"]) for channel in channels
                if isinstance(channel, dict) and channel.get("application_key")}  # fmt: skip
        hint = push_hint(payload, keys)
    else:
        hint = event_hint(payload)
    return OrderWebhook(id=hint.order_id, shop=hint.shop)


# One reader per shop system: each turns its system's payload into the order to read again.
WebhookReader = Callable[[bytes, Mapping[str, Any]], OrderWebhook]
READERS: dict[str, WebhookReader] = {
    "prestashop": read_order_webhook,
    "starweb": read_starweb_webhook,
    "norce": read_norce_event,
}


class BodyTooLarge(ValueError):
    """A webhook body longer than MAX_BODY_BYTES."""


async def read_body(chunks: AsyncIterator[bytes]) -> bytes:
    """The raw body, refused past MAX_BODY_BYTES so a flood cannot fill memory before the check."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge(f"webhook bodies are at most {MAX_BODY_BYTES} bytes")
    return bytes(body)


def reader_for(shop_system: str) -> WebhookReader:
    return READERS.get(shop_system, read_order_webhook)


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`."""
    return SIGNATURE_SCHEME + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def stored_secret(record: ConnectionRecord | None) -> str:
    """The connection's webhook secret, or the decoy when there is no connection or no secret."""
    secret = record.secrets.get(WEBHOOK_SECRET_KEY) if record is not None else None
    return secret or _DECOY_SECRET


def signature_ok(record: ConnectionRecord | None, body: bytes, header: str) -> bool:
    """`header` signs `body` with the connection's secret (always compared, even with no connection)."""
    good = hmac.compare_digest(sign(stored_secret(record), body).encode(), header.strip().encode())
    return good and _has_secret(record)


def path_secret_ok(record: ConnectionRecord | None, given: str) -> bool:
    """`given` is the connection's secret (always compared, even with no connection)."""
    good = hmac.compare_digest(stored_secret(record).encode(), given.encode())
    return good and _has_secret(record)


def _has_secret(record: ConnectionRecord | None) -> bool:
    return stored_secret(record) is not _DECOY_SECRET
