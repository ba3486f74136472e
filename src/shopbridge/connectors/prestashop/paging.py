"""Offset paging over a sorted PrestaShop list, with guards against loops and shifting lists.

The webservice has no page tokens and no total count (spec §4 `limit`): a list is read with
`limit=offset,size` until a page comes back shorter than `size`. Two things can go wrong.
A proxy or module that ignores `limit` returns the same page forever; and an order updated while
we page leaves the window (its new `date_upd` is past the window's end), so every later row moves
up one place and plain offsets would step over one of them. Each page after the first therefore
starts on the last row of the page before: if that row is not where it was, the list has shifted
and the pass stops with a TransientError, to be retried from the last committed cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shopbridge.errors import TransientError

SYSTEM = "prestashop"
MIN_PAGE_SIZE = 2  # one row of each page repeats the previous page's last row


@dataclass
class OverlappingOffsetPaging:
    """Hands out offsets and checks each page; `fresh(ids)` returns the rows not seen before."""

    page_size: int
    operation: str = "order_changes"
    offset: int = 0
    finished: bool = False
    _requested: set[int] = field(default_factory=set)
    _previous_ids: list[str] | None = None

    def __post_init__(self) -> None:
        if self.page_size < MIN_PAGE_SIZE:
            raise ValueError(f"page_size must be at least {MIN_PAGE_SIZE}, got {self.page_size}")

    def next_offset(self) -> int:
        """The offset to request now; the same offset is never handed out twice."""
        if self.finished:
            raise RuntimeError("paging is finished")
        if self.offset in self._requested:
            self._stop(f"offset {self.offset} was already requested; the list is not advancing")
        self._requested.add(self.offset)
        return self.offset

    def fresh(self, ids: Sequence[str]) -> slice:
        """Check the page just fetched and advance; the slice selects its rows not yet seen."""
        page = list(ids)
        previous = self._previous_ids
        if previous is not None and page and page == previous:
            self._stop(f"the page at offset {self.offset} repeats the previous page")
        overlap = 0
        if previous:
            # An empty page means the last row itself left the list, and everything before
            # it was read already; otherwise the last row must lead this page.
            if page and page[0] != previous[-1]:
                self._stop("the order list shifted while paging (an order changed meanwhile)")
            overlap = 1 if page else 0
        self.finished = len(page) < self.page_size
        if page:
            self.offset += len(page) - 1
            self._previous_ids = page
        return slice(overlap, None)

    def _stop(self, reason: str) -> None:
        self.finished = True
        raise TransientError(reason, SYSTEM, self.operation)
