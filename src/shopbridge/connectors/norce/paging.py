"""Paging over the Query API: follow `@odata.nextLink`, fall back to cumulative `$skip`, never repeat a page.

Spec §2b: the server caps a page at 500 and says where the next one is; where it does not, a full
page means more may follow at `$skip`. A server that hands out the same link twice would loop
forever, so a repeated link stops the pass with a TransientError.

Orders are read as two sorted streams, merged into one sorted by change time: those changed since
creation (by `Updated`) and those never changed (`Updated` null, by `Created`). Skip-based pages
can step over an order that changes while we read; it leaves with a change time after the run
started, past the poll's cursor, so the next poll lists it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopbridge.errors import TransientError

SYSTEM = "norce"
Payload = dict[str, Any]
Fetch = Callable[[str | None, int], Awaitable[Payload]]  # (next link or None, skip) -> page


@dataclass
class NextLinkPaging:
    """Says which page to ask for next; `advance(page)` refuses a link it has seen."""

    page_size: int
    skip: int = 0
    next_link: str | None = None
    finished: bool = False
    _seen: set[str] = field(default_factory=set)

    def advance(self, page: Payload) -> list[Payload]:
        records: list[Payload] = page.get("value") or []
        self.skip += len(records)
        link = page.get("@odata.nextLink")
        if isinstance(link, str) and link:
            if link in self._seen:
                self.finished = True
                raise TransientError(f"the Query API repeated the page link {link[:80]}", SYSTEM, "order_changes")
            self._seen.add(link)
            self.next_link = link
        else:
            self.next_link = None
            self.finished = len(records) < self.page_size or not records
        return records


async def stream(fetch: Fetch, page_size: int) -> AsyncIterator[Payload]:
    """Every row of a paged query, one at a time, fetching pages only as they are needed."""
    paging = NextLinkPaging(page_size)
    while not paging.finished:
        for row in paging.advance(await fetch(paging.next_link, paging.skip)):
            yield row


async def merged(
    first: AsyncIterator[Payload], second: AsyncIterator[Payload], key: Callable[[Payload], tuple[datetime, str]]
) -> AsyncIterator[Payload]:
    """Two sorted streams as one sorted stream."""
    heads = [await anext(first, None), await anext(second, None)]
    sources = [first, second]
    while heads[0] is not None or heads[1] is not None:
        pick = 0 if heads[1] is None or (heads[0] is not None and key(heads[0]) <= key(heads[1])) else 1
        row = heads[pick]
        assert row is not None
        yield row
        heads[pick] = await anext(sources[pick], None)


async def pages_of(rows: AsyncIterator[Payload], size: int) -> AsyncIterator[list[Payload]]:
    page: list[Payload] = []
    async for row in rows:
        page.append(row)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page
