"""Open a stored connection as a ready order flow: settings + secrets → connectors."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from shopbridge.connectors.base import DocumentSink, OrderSource
from shopbridge.connectors.calls import RateBudget
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


def config_version(record: ConnectionRecord) -> str:
    """A hash of everything the connectors are built from: a re-applied change gets new ones."""
    built_from = json.dumps([record.config, record.secrets], sort_keys=True, default=str)
    return hashlib.sha256(built_from.encode()).hexdigest()


@dataclass
class _Pair:
    version: str
    source: OrderSource
    sink: DocumentSink
    users: int = 0
    retired: bool = False

    async def aclose(self) -> None:
        try:
            await self.sink.aclose()
        finally:
            await self.source.aclose()


class ConnectorPool:
    """One connector pair (and so one HTTP pool and its caches) per connection per process.

    A pair built from an older version of the connection is retired: new users get a fresh
    pair, and the old one is closed when its last user is done.
    """

    def __init__(self, budget: RateBudget | None = None) -> None:
        self.budget = budget
        self._pairs: dict[str, _Pair] = {}

    @asynccontextmanager
    async def lease(self, record: ConnectionRecord) -> AsyncIterator[tuple[OrderSource, DocumentSink]]:
        pair = await self._current(record)
        pair.users += 1
        try:
            yield pair.source, pair.sink
        finally:
            pair.users -= 1
            if pair.retired and pair.users == 0:
                await pair.aclose()

    async def aclose(self) -> None:
        pairs, self._pairs = list(self._pairs.values()), {}
        for pair in pairs:
            pair.retired = True
            if pair.users == 0:
                await pair.aclose()

    async def _current(self, record: ConnectionRecord) -> _Pair:
        version = config_version(record)
        pair = self._pairs.get(record.name)
        if pair is not None and pair.version == version:
            return pair
        fresh = _Pair(version, *await build_pair(record, self.budget))
        self._pairs[record.name] = fresh
        if pair is not None:
            pair.retired = True
            if pair.users == 0:
                await pair.aclose()
        return fresh


async def build_pair(record: ConnectionRecord, budget: RateBudget | None = None) -> tuple[OrderSource, DocumentSink]:
    source = build_source(side_values(record, "shop"), budget)
    try:
        return source, build_sink(side_values(record, "erp"), budget)
    except BaseException:
        await source.aclose()  # its HTTP client is already open and nobody else holds it
        raise


def usable(record: ConnectionRecord) -> ConnectionRecord:
    if not record.enabled:
        raise ConfigError(f"connection {record.name} is disabled")
    if record.status == "config_error":
        # Stopped until someone fixes it: re-applying a changed connection or `connections resume`.
        raise ConfigError(f"connection {record.name} is stopped: {record.status_reason}")
    return record


@asynccontextmanager
async def open_order_flow(store: Store, name: str, pool: ConnectorPool | None = None) -> AsyncIterator[OrderFlow]:
    """The order flow of connection `name`: over the pool's connectors, or its own closed on exit."""
    # In a thread: a store read may wait on a database lock, and the event loop must not.
    record = usable(await asyncio.to_thread(store.connections.get, name))
    if pool is not None:
        async with pool.lease(record) as (source, sink):
            yield OrderFlow(record, source, sink, store, order_rules(record))
        return
    source, sink = await build_pair(record)
    try:
        yield OrderFlow(record, source, sink, store, order_rules(record))
    finally:
        await _Pair("", source, sink).aclose()
