"""Bindings map external ids to canonical keys one to one and remember what was last written."""

from __future__ import annotations

import pytest

from shopbridge.errors import DataError
from shopbridge.store import Store

SYSTEM, ENTITY = "economic", "customer"


def test_put_binding_is_found_by_either_key(store: Store, connection_id: int) -> None:
    put = store.bindings.put(connection_id, SYSTEM, ENTITY, "1042", "anna@example.se", "h1")
    assert store.bindings.by_canonical_key(connection_id, SYSTEM, ENTITY, "anna@example.se") == put
    assert store.bindings.by_external_id(connection_id, SYSTEM, ENTITY, "1042") == put
    assert put.updated_at.utcoffset() is not None


def test_unknown_keys_find_nothing(store: Store, connection_id: int) -> None:
    assert store.bindings.by_canonical_key(connection_id, SYSTEM, ENTITY, "nobody") is None
    assert store.bindings.by_external_id(connection_id, SYSTEM, ENTITY, "0") is None


def test_put_again_replaces_the_binding_of_a_canonical_key(
    store: Store, connection_id: int
) -> None:
    store.bindings.put(connection_id, SYSTEM, ENTITY, "1042", "anna@example.se", "h1")
    moved = store.bindings.put(connection_id, SYSTEM, ENTITY, "2001", "anna@example.se", "h2")
    assert (moved.external_id, moved.content_hash) == ("2001", "h2")
    assert store.bindings.by_external_id(connection_id, SYSTEM, ENTITY, "1042") is None
    assert store.bindings.by_external_id(connection_id, SYSTEM, ENTITY, "2001") == moved


def test_one_external_record_cannot_serve_two_canonical_keys(
    store: Store, connection_id: int
) -> None:
    store.bindings.put(connection_id, SYSTEM, ENTITY, "1042", "anna@example.se")
    with pytest.raises(DataError, match="already bound"):
        store.bindings.put(connection_id, SYSTEM, ENTITY, "1042", "bo@example.se")
    kept = store.bindings.by_external_id(connection_id, SYSTEM, ENTITY, "1042")
    assert kept is not None and kept.canonical_key == "anna@example.se"


def test_same_ids_in_another_system_or_entity_are_independent(
    store: Store, connection_id: int
) -> None:
    store.bindings.put(connection_id, SYSTEM, ENTITY, "7", "key-a")
    store.bindings.put(connection_id, SYSTEM, "product", "7", "key-b")
    store.bindings.put(connection_id, "fortnox", ENTITY, "7", "key-c")
    found = [
        store.bindings.by_external_id(connection_id, system, entity, "7")
        for system, entity in ((SYSTEM, ENTITY), (SYSTEM, "product"), ("fortnox", ENTITY))
    ]
    assert [binding.canonical_key for binding in found if binding] == ["key-a", "key-b", "key-c"]


def test_unchanged_is_true_only_for_the_last_written_hash(store: Store, connection_id: int) -> None:
    assert not store.bindings.unchanged(connection_id, SYSTEM, "product", "SKU-1", "abc")
    store.bindings.put(connection_id, SYSTEM, "product", "55", "SKU-1", "abc")
    assert store.bindings.unchanged(connection_id, SYSTEM, "product", "SKU-1", "abc")
    assert not store.bindings.unchanged(connection_id, SYSTEM, "product", "SKU-1", "abd")
    store.bindings.put(connection_id, SYSTEM, "product", "55", "SKU-1", "abd")
    assert not store.bindings.unchanged(connection_id, SYSTEM, "product", "SKU-1", "abc")


def test_an_empty_hash_never_counts_as_unchanged(store: Store, connection_id: int) -> None:
    store.bindings.put(connection_id, SYSTEM, "product", "55", "SKU-1")
    assert not store.bindings.unchanged(connection_id, SYSTEM, "product", "SKU-1", "")
