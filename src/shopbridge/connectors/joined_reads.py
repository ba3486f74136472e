"""Reads by id that wait for one account's budget at the same time, sent as one call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# What the read of a batch is given: a call that fixes and returns the batch's keys. The read calls
# it when its request goes out, after the wait for the budget, so the batch fills while it waits.
Keys = Callable[[], list[K]]


class _Abandoned(Exception):
    """The caller leading a batch was cancelled: the others of the batch read again."""


class _Batch(Generic[K, V]):
    def __init__(self) -> None:
        self.waiting: dict[K, asyncio.Future[V]] = {}
        self.keys: list[K] | None = None

    def take(self) -> list[K]:
        """The keys of the call, fixed the first time it goes out (a repeated read sends the same)."""
        if self.keys is None:
            self.keys = list(self.waiting)
        return self.keys


class JoinedReads(Generic[K, V]):
    """Reads of one kind of record by key, from one account.

    The first caller leads a batch and waits for the budget; a caller that comes while the batch
    waits joins it instead of waiting for a call of its own, and the call asks for every key joined
    by the time it goes out. An idle account sends each read alone, as before; with a backlog
    queued in front of the budget, the customers of forty orders cost one call, not forty.
    """

    def __init__(self, read: Callable[[Keys[K]], Awaitable[Mapping[K, V]]], missing: Callable[[K], Exception],
                 limit: int) -> None:  # fmt: skip
        self._read = read
        self._missing = missing
        self._limit = limit
        self._open: _Batch[K, V] | None = None

    async def get(self, key: K) -> V:
        """The record of `key`; a key the answer leaves out raises `missing(key)`, and a failed call
        raises its error for every key of the batch."""
        while True:
            batch, leads = self._batch_for(key)
            future = batch.waiting.get(key)
            if future is None:
                future = batch.waiting[key] = asyncio.get_running_loop().create_future()
                future.add_done_callback(_retrieved)
            if leads:
                await self._lead(batch)
            try:
                # Shielded: a cancelled caller must not cancel the answer others of the batch share.
                return await asyncio.shield(future)
            except _Abandoned:
                continue

    def _batch_for(self, key: K) -> tuple[_Batch[K, V], bool]:
        batch = self._open
        if batch is not None and batch.keys is None and (key in batch.waiting or len(batch.waiting) < self._limit):
            return batch, False
        self._open = _Batch()
        return self._open, True

    async def _lead(self, batch: _Batch[K, V]) -> None:
        try:
            found = await self._read(batch.take)
        except asyncio.CancelledError:
            self._close(batch)
            self._settle(batch, {}, _Abandoned())
            raise
        except Exception as exc:
            self._close(batch)
            self._settle(batch, {}, exc)
            return
        self._close(batch)
        self._settle(batch, found, None)

    def _close(self, batch: _Batch[K, V]) -> None:
        batch.take()  # a batch that failed before its call went out takes no one else
        if self._open is batch:
            self._open = None

    def _settle(self, batch: _Batch[K, V], found: Mapping[K, V], failure: Exception | None) -> None:
        for key, future in batch.waiting.items():
            if future.done():
                continue
            if failure is not None:
                future.set_exception(failure)
            elif key in found:
                future.set_result(found[key])
            else:
                future.set_exception(self._missing(key))


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a failure as seen: a caller cancelled meanwhile would leave it logged as never retrieved."""
    if not future.cancelled():
        future.exception()
