"""Operator tokens are shown once, stored hashed, listed by name and revoked by name."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shopbridge.errors import ConfigError
from shopbridge.store import Store


def test_a_created_token_verifies_to_its_name(store: Store) -> None:
    token = store.tokens.create("alice")
    assert store.tokens.verify(token) == "alice"
    assert store.tokens.verify(token + "x") is None
    assert store.tokens.verify("") is None


def test_only_a_hash_of_the_token_is_stored(store: Store) -> None:
    token = store.tokens.create("alice")
    with store.database.reading() as session:
        stored = session.execute(text("SELECT token_hash FROM api_tokens")).scalar_one()
    assert token not in stored
    assert len(stored) == 64


def test_tokens_are_listed_and_revoked_by_name(store: Store) -> None:
    token = store.tokens.create("bob")
    store.tokens.create("alice")
    assert [record.name for record in store.tokens.list()] == ["alice", "bob"]
    assert store.tokens.revoke("bob")
    assert not store.tokens.revoke("bob")
    assert store.tokens.verify(token) is None


def test_a_name_is_used_once(store: Store) -> None:
    store.tokens.create("alice")
    with pytest.raises(ConfigError, match="exists"):
        store.tokens.create("alice")
