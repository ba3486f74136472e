"""The event log returns events newest first, filtered by connection or transfer."""

from __future__ import annotations

from datetime import UTC

import pytest

from shopbridge.errors import DataError
from shopbridge.store import Store


def test_add_returns_the_stored_event(store: Store, connection_id: int) -> None:
    event = store.events.add(
        "transfer.failed",
        "e-conomic answered 503",
        connection_id=connection_id,
        transfer_id="demo/1/42",
        data={"status": 503, "body": {"message": "busy"}},
    )
    assert store.events.list() == [event]
    assert (event.kind, event.message, event.transfer_id) == (
        "transfer.failed",
        "e-conomic answered 503",
        "demo/1/42",
    )
    assert event.data == {"status": 503, "body": {"message": "busy"}}
    assert event.created_at.tzinfo is UTC


def test_events_without_data_store_an_empty_mapping(store: Store) -> None:
    assert store.events.add("startup", "worker started").data == {}


def test_list_is_newest_first(store: Store) -> None:
    added = [store.events.add("step", f"step {number}") for number in range(5)]
    assert [event.message for event in store.events.list()] == [
        event.message for event in reversed(added)
    ]
    assert [event.message for event in store.events.list(limit=2)] == ["step 4", "step 3"]


def test_list_filters_by_connection_and_transfer(store: Store, connection_id: int) -> None:
    store.events.add("a", "global")
    store.events.add("b", "connection", connection_id=connection_id)
    store.events.add("c", "transfer", connection_id=connection_id, transfer_id="demo/1/1")
    store.events.add("d", "other transfer", connection_id=connection_id, transfer_id="demo/1/2")
    by_connection = store.events.list(connection_id=connection_id)
    by_transfer = store.events.list(transfer_id="demo/1/1")
    assert [event.kind for event in by_connection] == ["d", "c", "b"]
    assert [event.kind for event in by_transfer] == ["c"]
    assert [event.kind for event in store.events.list()] == ["d", "c", "b", "a"]


def test_a_value_the_database_cannot_hold_is_a_data_error(store: Store) -> None:
    # PostgreSQL refuses NUL in text; as our DataError the order is parked with a reason
    # instead of failing, and being retried, forever.
    if store.database.engine.dialect.name == "sqlite":
        pytest.skip("SQLite stores NUL in text")
    with pytest.raises(DataError, match="cannot be stored"):
        store.events.add("order.note", "a\x00b")
