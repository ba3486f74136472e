"""Connections upsert by name, keep secrets encrypted at rest and never show them in reprs."""

from __future__ import annotations

from datetime import UTC

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from shopbridge.errors import ConfigError
from shopbridge.store import ConnectionNotFound, SecretBox, Store

SECRETS = {"ws_key": "PS-KEY-7f3a9c", "agreement_grant_token": "GRANT-51b2"}
CONFIG = {"shop_url": "http://shop.test", "vat_zone": 1}


def test_apply_creates_a_connection_with_decrypted_secrets(store: Store) -> None:
    created = store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    fetched = store.connections.get("demo")
    assert fetched == created
    assert (fetched.shop_system, fetched.erp_system, fetched.tenant) == (
        "prestashop",
        "economic",
        "default",
    )
    assert fetched.config == CONFIG and fetched.secrets == SECRETS
    assert fetched.enabled and fetched.status == "ok"
    assert fetched.created_at.tzinfo is UTC


def test_apply_again_updates_the_same_connection(store: Store) -> None:
    first = store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    changed = {**CONFIG, "vat_zone": 2}
    second = store.connections.apply("demo", "prestashop", "fortnox", changed, {"k": "v"}, "acme")
    assert second.id == first.id
    assert (second.erp_system, second.config, second.secrets, second.tenant) == (
        "fortnox",
        changed,
        {"k": "v"},
        "acme",
    )
    assert second.created_at == first.created_at and second.updated_at > first.updated_at
    assert [record.name for record in store.connections.list()] == ["demo"]


def test_secrets_are_encrypted_at_rest(store: Store) -> None:
    store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    with store.database.engine.connect() as connection:
        raw = connection.execute(text("SELECT secrets, config FROM connections")).one()
    for value in SECRETS.values():
        assert value not in str(raw.secrets) and value not in str(raw.config)


def test_reading_with_the_wrong_key_is_a_config_error(
    store: Store, database_url: str
) -> None:
    store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    with Store(database_url, SecretBox(Fernet.generate_key())) as other, pytest.raises(ConfigError):
        other.connections.get("demo")


def test_applying_fresh_secrets_repairs_a_lost_key(store: Store, database_url: str) -> None:
    store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    with Store(database_url, SecretBox(Fernet.generate_key())) as rekeyed:
        repaired = rekeyed.connections.apply("demo", "prestashop", "economic", CONFIG, {"k": "new"})
        assert rekeyed.connections.get("demo").secrets == repaired.secrets == {"k": "new"}


def test_repr_hides_secrets(store: Store) -> None:
    record = store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    for value in SECRETS.values():
        assert value not in repr(record) and value not in str(record)


def test_get_of_an_unknown_name_raises_lookup_error(store: Store) -> None:
    with pytest.raises(LookupError):
        store.connections.get("missing")
    with pytest.raises(ConnectionNotFound):
        store.connections.by_id(987654)


def test_by_id_finds_the_connection(store: Store) -> None:
    created = store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    assert store.connections.by_id(created.id) == created


def test_list_returns_connections_by_name_across_tenants(store: Store) -> None:
    store.connections.apply("zeta", "prestashop", "economic", {}, {}, tenant="b")
    store.connections.apply("alpha", "prestashop", "economic", {}, {}, tenant="a")
    listed = store.connections.list()
    assert [(record.name, record.tenant) for record in listed] == [("alpha", "a"), ("zeta", "b")]


def test_set_status_records_the_reason(store: Store) -> None:
    store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    store.connections.set_status("demo", "config_error", "401 from e-conomic")
    record = store.connections.get("demo")
    assert (record.status, record.status_reason) == ("config_error", "401 from e-conomic")


def test_set_status_rejects_unknown_statuses_and_names(store: Store) -> None:
    store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    with pytest.raises(ValueError):
        store.connections.set_status("demo", "broken")
    with pytest.raises(ConnectionNotFound):
        store.connections.set_status("missing", "ok")


def test_changed_secrets_clear_a_config_error(store: Store) -> None:
    store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    store.connections.set_status("demo", "config_error", "bad key")
    unchanged = store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    assert unchanged.status == "config_error"
    fixed = store.connections.apply("demo", "prestashop", "economic", CONFIG, {"ws_key": "new"})
    assert (fixed.status, fixed.status_reason) == ("ok", "")


def test_set_enabled_toggles_and_survives_apply(store: Store) -> None:
    store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    store.connections.set_enabled("demo", False)
    reapplied = store.connections.apply("demo", "prestashop", "economic", CONFIG, SECRETS)
    assert reapplied.enabled is False
    store.connections.set_enabled("demo", True)
    assert store.connections.get("demo").enabled is True
