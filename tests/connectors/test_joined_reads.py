"""Reads waiting for the budget at the same time go out as one call; each caller gets its own record."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Mapping

import pytest

from shopbridge.connectors.joined_reads import JoinedReads, Keys
from shopbridge.errors import DataError, TransientError


class Remote:
    """A read of records by key whose calls wait for `opened` (the budget) before they go out."""

    def __init__(self, absent: frozenset[int] = frozenset(), failing: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.opened = asyncio.Event()
        self.absent, self.failing = absent, failing

    async def read(self, keys: Keys[int]) -> Mapping[int, str]:
        await self.opened.wait()
        sent = keys()
        self.calls.append(sent)
        await asyncio.sleep(0)  # the answer takes a moment: callers coming now start a new call
        if self.failing:
            raise TransientError("the shop answered 503")
        return {key: f"record {key}" for key in sent if key not in self.absent}


def missing(key: int) -> DataError:
    return DataError(f"no record {key}", status=404)


async def started(reads: JoinedReads[int, str], *keys: int) -> list[asyncio.Task[str]]:
    tasks = [asyncio.create_task(reads.get(key)) for key in keys]
    await asyncio.sleep(0)
    return tasks


async def test_a_read_on_an_idle_account_goes_alone() -> None:
    remote = Remote()
    remote.opened.set()
    reads = JoinedReads(remote.read, missing, limit=50)
    assert await reads.get(7) == "record 7"
    assert await reads.get(8) == "record 8"
    assert remote.calls == [[7], [8]]


async def test_reads_coming_while_one_waits_for_the_budget_join_its_call() -> None:
    remote = Remote()
    reads = JoinedReads(remote.read, missing, limit=50)
    tasks = await started(reads, 1, 2, 3, 2)
    remote.opened.set()
    assert await asyncio.gather(*tasks) == ["record 1", "record 2", "record 3", "record 2"]
    assert remote.calls == [[1, 2, 3]]


async def test_a_read_coming_after_the_call_went_out_makes_a_call_of_its_own() -> None:
    remote = Remote()
    reads = JoinedReads(remote.read, missing, limit=50)
    first = await started(reads, 1, 2)
    remote.opened.set()
    await asyncio.sleep(0)  # the call is out and its answer not yet back
    later = await started(reads, 3)
    assert await asyncio.gather(*first, *later) == ["record 1", "record 2", "record 3"]
    assert remote.calls == [[1, 2], [3]]


async def test_a_batch_holds_at_most_its_limit() -> None:
    remote = Remote()
    reads = JoinedReads(remote.read, missing, limit=2)
    tasks = await started(reads, 1, 2, 3, 4, 5)
    remote.opened.set()
    await asyncio.gather(*tasks)
    assert sorted(remote.calls) == [[1, 2], [3, 4], [5]]


async def test_a_key_the_answer_leaves_out_fails_only_its_own_caller() -> None:
    remote = Remote(absent=frozenset({2}))
    reads = JoinedReads(remote.read, missing, limit=50)
    tasks = await started(reads, 1, 2, 3)
    remote.opened.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == "record 1" and results[2] == "record 3"
    assert isinstance(results[1], DataError) and results[1].status == 404


async def test_a_failed_call_fails_every_caller_of_its_batch() -> None:
    remote = Remote(failing=True)
    reads = JoinedReads(remote.read, missing, limit=50)
    tasks = await started(reads, 1, 2)
    remote.opened.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, TransientError) for result in results)
    assert remote.calls == [[1, 2]]


async def test_when_the_leading_caller_is_cancelled_the_others_read_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    remote = Remote()

    async def scenario() -> tuple[bool, list[str]]:
        reads = JoinedReads(remote.read, missing, limit=50)
        leader, *others = await started(reads, 1, 2, 3)
        leader.cancel()
        await asyncio.sleep(0.01)  # the others are waiting again, in a batch of their own
        remote.opened.set()
        return leader.cancelled(), await asyncio.gather(*others)

    assert await scenario() == (True, ["record 2", "record 3"])
    assert remote.calls == [[2, 3]]
    assert_no_failure_left_unretrieved(caplog)


async def test_a_cancelled_caller_leaves_the_others_of_its_batch_answered(caplog: pytest.LogCaptureFixture) -> None:
    remote = Remote(absent=frozenset({2}))

    async def scenario() -> tuple[str, bool]:
        reads = JoinedReads(remote.read, missing, limit=50)
        first, second = await started(reads, 1, 2)
        second.cancel()
        remote.opened.set()
        return await first, second.cancelled()

    assert await scenario() == ("record 1", True)
    assert_no_failure_left_unretrieved(caplog)


def assert_no_failure_left_unretrieved(caplog: pytest.LogCaptureFixture) -> None:
    """asyncio logs a failure nobody read when its future is collected; the scenario's tasks are gone."""
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
    assert "never retrieved" not in caplog.text
