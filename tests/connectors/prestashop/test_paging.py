"""Tests of the overlapping offset paging and its loop guards."""

from __future__ import annotations

import pytest

from shopbridge.connectors.prestashop.paging import OverlappingOffsetPaging
from shopbridge.errors import TransientError


def ids(first: int, last: int) -> list[str]:
    return [str(number) for number in range(first, last + 1)]


def read_all(rows: list[str], page_size: int) -> tuple[list[str], list[int]]:
    """Page through a list that does not change; return what was read and the offsets asked."""
    paging = OverlappingOffsetPaging(page_size)
    read: list[str] = []
    offsets: list[int] = []
    while not paging.finished:
        offset = paging.next_offset()
        offsets.append(offset)
        page = rows[offset : offset + page_size]
        read += page[paging.fresh(page)]
    return read, offsets


@pytest.mark.parametrize("count", [0, 1, 4, 5, 9, 10, 23])
def test_every_row_of_a_steady_list_is_read_once(count: int) -> None:
    rows = ids(1, count)
    read, _ = read_all(rows, page_size=5)
    assert read == rows


def test_each_page_after_the_first_starts_on_the_last_row_read() -> None:
    _, offsets = read_all(ids(1, 12), page_size=5)
    assert offsets == [0, 4, 8]


def test_a_short_first_page_finishes_the_pass() -> None:
    paging = OverlappingOffsetPaging(5)
    paging.next_offset()
    paging.fresh(ids(1, 3))
    assert paging.finished


def test_a_server_that_ignores_the_offset_is_stopped_as_transient() -> None:
    paging = OverlappingOffsetPaging(3)
    paging.next_offset()
    paging.fresh(ids(1, 3))
    paging.next_offset()
    with pytest.raises(TransientError, match="repeats the previous page"):
        paging.fresh(ids(1, 3))
    assert paging.finished


def test_a_row_leaving_the_list_between_pages_is_noticed() -> None:
    rows = ids(1, 10)
    paging = OverlappingOffsetPaging(4)
    first = rows[paging.next_offset() : 4]
    paging.fresh(first)
    rows.remove("2")  # order 2 was updated meanwhile and moved past the window's end
    offset = paging.next_offset()
    with pytest.raises(TransientError, match="shifted"):
        paging.fresh(rows[offset : offset + 4])


def test_the_last_row_leaving_the_list_ends_the_pass_without_loss() -> None:
    paging = OverlappingOffsetPaging(3)
    paging.next_offset()
    paging.fresh(ids(1, 3))
    paging.next_offset()
    assert ids(1, 0)[paging.fresh([])] == []
    assert paging.finished


def test_the_same_offset_is_never_requested_twice() -> None:
    paging = OverlappingOffsetPaging(3)
    paging.next_offset()
    with pytest.raises(TransientError, match="already requested"):
        paging.next_offset()


def test_pages_smaller_than_two_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        OverlappingOffsetPaging(1)
