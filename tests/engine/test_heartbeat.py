"""Activity heartbeats: a steady beat while the activity works, and its progress handed to the
next attempt."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from temporalio.testing import ActivityEnvironment

from shopbridge.engine.heartbeat import Heartbeat


async def test_beats_keep_coming_while_one_slow_call_runs() -> None:
    env, beats = ActivityEnvironment(), []
    env.on_heartbeat = lambda *details: beats.append(details)

    async def slow_call() -> None:
        async with Heartbeat(every=0.01) as beat:
            await asyncio.sleep(0.1)
            beat.progress("2026-03-02T09:00:00+00:00")

    await env.run(slow_call)
    assert len(beats) >= 5
    assert beats[-1] == ("2026-03-02T09:00:00+00:00",)


async def test_the_next_attempt_starts_from_the_progress_reported_last() -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=["2026-03-02T09:00:00+00:00"])

    async def resumed() -> Any:
        async with Heartbeat() as beat:
            return beat.details

    assert await env.run(resumed) == "2026-03-02T09:00:00+00:00"
