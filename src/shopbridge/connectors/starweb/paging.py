"""Walking Starweb's order list newest-first back to a cursor, with a loop guard.

Starweb has no modified-since filter for orders (spec §8): the list is read sorted by
`modifiedAt` DESC, page by page (`page`, 1-based, server-sized pages with `meta.pagination`),
until a row is older than the window or the last page is read. Orders changed while we page
move to the top, so later pages repeat rows already seen (dropped here by id) and never hide
one that changed before the walk began. An order changed during the walk is past the window's
end and belongs to the next poll. A deleted order shifts rows up by one and can hide one row;
the poll's overlap window reads it next time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shopbridge.errors import DataError, TransientError

SYSTEM = "starweb"
MAX_PAGES = 10_000  # a guard, not a limit anyone reaches: 1,000,000 orders at 100 per page


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    current_page: int
    total_pages: int


def read_page(payload: Any) -> Page:
    """`{"data": [...], "meta": {"pagination": {...}}}` (spec §4)."""
    rows = payload.get("data") if isinstance(payload, dict) else None
    meta = payload.get("meta") if isinstance(payload, dict) else None
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows) or not isinstance(pagination, dict):
        raise DataError("expected {\"data\": [...], \"meta\": {\"pagination\": ...}}", SYSTEM, "list_orders")
    current, total = pagination.get("current_page"), pagination.get("total_pages")
    if not isinstance(current, int) or not isinstance(total, int):
        raise DataError("meta.pagination has no current_page and total_pages", SYSTEM, "list_orders")
    return Page(rows, current, total)


@dataclass
class NewestFirstPaging:
    """Hands out page numbers and keeps each order id only the first (newest) time it is seen."""

    operation: str = "order_changes"
    page: int = 1
    finished: bool = False
    _seen: set[str] = field(default_factory=set)

    def next_page(self) -> int:
        if self.finished:
            raise RuntimeError("paging is finished")
        if self.page > MAX_PAGES:
            self._stop(f"more than {MAX_PAGES} pages; the list is not ending")
        return self.page

    def advance(self, page: Page, reached_cursor: bool) -> None:
        """Check the page just read answers the page asked for, then move on or finish."""
        if page.current_page != self.page:
            self._stop(f"asked for page {self.page}, got page {page.current_page}; the list is not advancing")
        self.finished = reached_cursor or not page.rows or page.current_page >= page.total_pages
        self.page += 1

    def fresh(self, ids: Sequence[str]) -> list[bool]:
        """For each id of a page, whether it is seen here for the first time."""
        flags = []
        for order_id in ids:
            flags.append(order_id not in self._seen)
            self._seen.add(order_id)
        return flags

    def _stop(self, reason: str) -> None:
        self.finished = True
        raise TransientError(reason, SYSTEM, self.operation)
