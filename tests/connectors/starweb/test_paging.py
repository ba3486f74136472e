"""Newest-first paging: pages asked once, in order, each order kept at its first (newest) sighting."""

from __future__ import annotations

import pytest

from shopbridge.connectors.starweb.paging import NewestFirstPaging, Page, read_page
from shopbridge.errors import DataError, TransientError


def page(number: int, total: int, *ids: int) -> Page:
    return Page([{"orderId": order_id} for order_id in ids], number, total)


def test_pages_advance_until_the_last_page() -> None:
    paging = NewestFirstPaging()
    assert paging.next_page() == 1
    paging.advance(page(1, 2, 5, 4), reached_cursor=False)
    assert paging.next_page() == 2
    paging.advance(page(2, 2, 3), reached_cursor=False)
    assert paging.finished


def test_reaching_the_cursor_finishes_early() -> None:
    paging = NewestFirstPaging()
    paging.advance(page(1, 9, 5, 4), reached_cursor=True)
    assert paging.finished


def test_a_server_that_ignores_the_page_parameter_is_stopped() -> None:
    paging = NewestFirstPaging()
    paging.advance(page(1, 3, 5, 4), reached_cursor=False)
    with pytest.raises(TransientError, match="not advancing"):
        paging.advance(page(1, 3, 5, 4), reached_cursor=False)
    assert paging.finished


def test_rows_shifted_onto_the_next_page_are_not_kept_twice() -> None:
    paging = NewestFirstPaging()
    assert paging.fresh(["5", "4"]) == [True, True]
    assert paging.fresh(["4", "3"]) == [False, True]


@pytest.mark.parametrize(
    "payload",
    [None, [], {"data": []}, {"data": [1], "meta": {"pagination": {"current_page": 1, "total_pages": 1}}},
     {"data": [], "meta": {"pagination": {"current_page": "1", "total_pages": 1}}}],
)
def test_pages_not_in_starwebs_envelope_are_data_errors(payload: object) -> None:
    with pytest.raises(DataError):
        read_page(payload)
