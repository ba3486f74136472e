"""Heartbeats for long activities: a steady beat while the activity runs, carrying its progress.

A worker that dies stops beating, so Temporal retries its activity after the heartbeat timeout
(seconds), not after the start-to-close timeout (minutes). The beat comes from a task of its own,
so one slow remote call does not look like a dead worker; the last progress reported travels in
the beat, and the next attempt reads it back with `last_progress()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from temporalio import activity

BEAT_SECONDS = 2.0


class Heartbeat:
    """`async with Heartbeat() as beat:` beats every `every` seconds; `beat.progress(text)` records
    how far the activity got and beats at once."""

    def __init__(self, every: float = BEAT_SECONDS) -> None:
        self.every = every
        self.details = last_progress()
        self._task: asyncio.Task[None] | None = None

    def progress(self, details: str) -> None:
        self.details = details
        self._beat()

    def _beat(self) -> None:
        if self.details:
            activity.heartbeat(self.details)
        else:
            activity.heartbeat()

    async def _keep_beating(self) -> None:
        while True:
            self._beat()
            await asyncio.sleep(self.every)

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._keep_beating())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def last_progress() -> str:
    """The progress the previous attempt of this activity reported last, or ''."""
    details = activity.info().heartbeat_details
    return str(details[0]) if details else ""
