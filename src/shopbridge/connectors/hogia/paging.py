"""Paging through Hogia lists by 1-based page number (spec §2, pagination), with a loop guard."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopbridge.errors import TransientError

MAX_PAGE_SIZE = 500  # spec §2: default and maximum page size
MAX_PAGES = 10_000  # far beyond any real list; reaching it means the server is looping


class PageNumbers:
    """Query parameters for each page; `params` becomes None after the last page.

    A page shorter than the page size is the last one. The answer must be the page asked
    for: a server that sends page 1 again would otherwise be read forever.
    """

    def __init__(self, page_size: int = MAX_PAGE_SIZE) -> None:
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.page: int | None = 1

    @property
    def params(self) -> dict[str, str] | None:
        return None if self.page is None else {"page": str(self.page), "pageSize": str(self.page_size)}

    def advance(self, payload: Mapping[str, Any], count: int) -> None:
        if self.page is None:
            return
        answered = payload.get("page", self.page)
        if str(answered) != str(self.page):
            raise TransientError(f"Hogia answered page {answered} when asked for page {self.page}",
                                 system="hogia", operation="paging")  # fmt: skip
        total = payload.get("totalItems")
        last = count < self.page_size or (isinstance(total, int) and self.page * self.page_size >= total)
        if not last and self.page >= MAX_PAGES:
            raise TransientError(f"Hogia kept paging past {MAX_PAGES} pages", system="hogia", operation="paging")
        self.page = None if last else self.page + 1
