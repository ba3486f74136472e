"""Paging through e-conomic collections by following `pagination.nextPage` (spec §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from shopbridge.errors import TransientError

MAX_PAGE_SIZE = 1000  # spec §3: `maxPageSizeAllowed`


def _page_key(params: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """One page's identity; e-conomic may spell the names `skipPages`, so compare them lower-cased."""
    return tuple(sorted((name.lower(), value) for name, value in params.items()))


class NextPageLinks:
    """Query parameters for each page of one collection, with a guard against looping.

    The first page is asked for with `skippages=0`; later pages use the query of the
    `nextPage` link, which carries filter and sort along (spec §3). Only the query is taken
    from the link, never its host: the tokens must not follow a link to somewhere else, and
    an emulator may write the production host into its links.
    """

    def __init__(self, page_size: int, filter: str | None = None, sort: str | None = None) -> None:
        params = {"skippages": "0", "pagesize": str(max(1, min(page_size, MAX_PAGE_SIZE)))}
        if filter:
            params["filter"] = filter
        if sort:
            params["sort"] = sort
        self.params: dict[str, str] | None = params
        self._seen = {_page_key(params)}

    def advance(self, payload: Mapping[str, Any]) -> None:
        """Move to the page after `payload`; `params` becomes None after the last page."""
        pagination = payload.get("pagination")
        link = pagination.get("nextPage") if isinstance(pagination, Mapping) else None
        if not link:
            self.params = None
            return
        params = dict(httpx.URL(str(link)).params.multi_items())
        key = _page_key(params)
        if key in self._seen:
            raise TransientError(
                f"e-conomic pointed back to a page already read ({httpx.URL(str(link)).query.decode()})",
                system="economic",
                operation="paging",
            )
        self._seen.add(key)
        self.params = params
