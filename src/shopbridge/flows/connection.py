"""Open a stored connection as a ready order flow: settings + secrets → connectors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from shopbridge.connectors.registry import build_sink, build_source
from shopbridge.errors import ConfigError
from shopbridge.flows.order_transfer import OrderFlow
from shopbridge.flows.rules import OrderRules
from shopbridge.store import ConnectionRecord, Store

SIDES = ("shop", "erp")


def side_values(record: ConnectionRecord, side: str) -> dict[str, Any]:
    """One side's settings with its secrets put back in (secrets are stored as `side.field`)."""
    values = dict(record.config.get(side, {}))
    prefix = f"{side}."
    values.update({key[len(prefix) :]: value for key, value in record.secrets.items() if key.startswith(prefix)})
    return values


def order_rules(record: ConnectionRecord) -> OrderRules:
    try:
        return OrderRules.model_validate(record.config.get("orders", {}))
    except ValueError as exc:
        raise ConfigError(f"invalid [orders] rules of connection {record.name}: {exc}") from exc


@asynccontextmanager
async def open_order_flow(store: Store, name: str) -> AsyncIterator[OrderFlow]:
    """The order flow of connection `name`, its HTTP clients closed on exit."""
    record = store.connections.get(name)
    if not record.enabled:
        raise ConfigError(f"connection {name} is disabled")
    if record.status == "config_error":
        # Stopped until someone fixes it: re-applying a changed connection or `connections resume`.
        raise ConfigError(f"connection {name} is stopped: {record.status_reason}")
    source = build_source(side_values(record, "shop"))
    try:
        sink = build_sink(side_values(record, "erp"))
        try:
            yield OrderFlow(record, source, sink, store, order_rules(record))
        finally:
            await sink.aclose()
    finally:
        await source.aclose()
