"""Query API paging: nextLink with a loop guard, the `$skip` fallback, and the merge by change time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shopbridge.connectors.norce.paging import NextLinkPaging, merged, pages_of, stream
from shopbridge.errors import TransientError


def page(ids: list[int], link: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"value": [{"Id": i} for i in ids]}
    if link:
        body["@odata.nextLink"] = link
    return body


def test_follows_next_link_and_stops_without_one_on_a_short_page() -> None:
    paging = NextLinkPaging(page_size=2)
    paging.advance(page([1, 2], "http://n/o?$skip=2"))
    assert (paging.next_link, paging.finished) == ("http://n/o?$skip=2", False)
    paging.advance(page([3]))
    assert paging.finished


def test_full_page_without_link_falls_back_to_cumulative_skip() -> None:
    paging = NextLinkPaging(page_size=2)
    paging.advance(page([1, 2]))
    assert (paging.next_link, paging.skip, paging.finished) == (None, 2, False)


def test_repeated_link_stops_the_pass_as_transient() -> None:
    paging = NextLinkPaging(page_size=2)
    paging.advance(page([1, 2], "http://n/o?$skip=2"))
    with pytest.raises(TransientError):
        paging.advance(page([3, 4], "http://n/o?$skip=2"))


async def test_stream_asks_for_each_page_once() -> None:
    asked: list[tuple[str | None, int]] = []
    pages = {0: page([1, 2], "L2"), 2: page([3, 4]), 4: page([])}

    async def fetch(link: str | None, skip: int) -> dict[str, Any]:
        asked.append((link, skip))
        return pages[skip]

    assert [row["Id"] async for row in stream(fetch, 2)] == [1, 2, 3, 4]
    assert asked == [(None, 0), ("L2", 2), (None, 4)]


async def rows_at(*minutes: int) -> AsyncIterator[dict[str, Any]]:
    for minute in minutes:
        yield {"at": datetime(2024, 1, 1, 0, minute, tzinfo=UTC), "OrderNo": str(minute)}


async def test_merge_of_two_sorted_streams_is_sorted_and_complete() -> None:
    both = merged(rows_at(1, 4, 5), rows_at(2, 3, 6, 7), lambda row: (row["at"], row["OrderNo"]))
    pages = [[row["OrderNo"] for row in chunk] async for chunk in pages_of(both, 3)]
    assert pages == [["1", "2", "3"], ["4", "5", "6"], ["7"]]
