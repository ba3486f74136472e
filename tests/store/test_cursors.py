"""Cursors store UTC, refuse naive times and never move backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shopbridge.store import Store

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_an_unset_cursor_is_none(store: Store, connection_id: int) -> None:
    assert store.cursors.get(connection_id, "orders") is None


def test_advance_stores_the_instant_as_aware_utc(store: Store, connection_id: int) -> None:
    local = datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=STOCKHOLM)
    stored = store.cursors.advance(connection_id, "orders", local)
    read = store.cursors.get(connection_id, "orders")
    assert stored == read == local
    assert read is not None and read.tzinfo is UTC and read.hour == 12


def test_advance_never_moves_backwards(store: Store, connection_id: int) -> None:
    later = datetime(2024, 6, 2, tzinfo=UTC)
    store.cursors.advance(connection_id, "orders", later)
    assert store.cursors.advance(connection_id, "orders", later - timedelta(hours=1)) == later
    assert store.cursors.get(connection_id, "orders") == later
    newest = later + timedelta(microseconds=1)
    assert store.cursors.advance(connection_id, "orders", newest) == newest


def test_advance_across_the_autumn_dst_change_compares_instants(
    store: Store, connection_id: int
) -> None:
    # 02:30 CEST happens before 02:10 CET on 27 October 2024: wall clocks would mislead.
    before_change = datetime(2024, 10, 27, 2, 30, tzinfo=STOCKHOLM, fold=0)
    after_change = datetime(2024, 10, 27, 2, 10, tzinfo=STOCKHOLM, fold=1)
    store.cursors.advance(connection_id, "orders", before_change)
    stored = store.cursors.advance(connection_id, "orders", after_change)
    # Compared in UTC: Python never equates an ambiguous fold=1 time across zones (PEP 495).
    assert before_change.astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert stored == after_change.astimezone(UTC) == datetime(2024, 10, 27, 1, 10, tzinfo=UTC)


def test_naive_datetimes_are_refused(store: Store, connection_id: int) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.cursors.advance(connection_id, "orders", datetime(2024, 6, 1, 12, 0))
    assert store.cursors.get(connection_id, "orders") is None


def test_cursors_are_separate_per_name_and_connection(store: Store, connection_id: int) -> None:
    other = store.connections.apply("other", "prestashop", "economic", {}, {}).id
    store.cursors.advance(connection_id, "orders", datetime(2024, 1, 1, tzinfo=UTC))
    store.cursors.advance(connection_id, "products", datetime(2024, 2, 1, tzinfo=UTC))
    assert store.cursors.get(connection_id, "orders") == datetime(2024, 1, 1, tzinfo=UTC)
    assert store.cursors.get(connection_id, "products") == datetime(2024, 2, 1, tzinfo=UTC)
    assert store.cursors.get(other, "orders") is None
