from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopbridge.connection_file import apply_connection, read_connection_file, resolve_env
from shopbridge.errors import ConfigError
from shopbridge.store import Store
from tests.conftest import World


def test_env_values_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_KEY", "s3cret")
    assert resolve_env("env:ACME_KEY", "shop.key") == "s3cret"
    assert resolve_env("plain", "shop.url") == "plain"


def test_missing_env_value_names_the_variable_and_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(ConfigError, match=r"shop\.key refers to environment variable NOPE"):
        resolve_env("env:NOPE", "shop.key")


def test_broken_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.toml"):
        read_connection_file(path)


def test_secrets_are_stored_apart_from_the_config(world: World, store: Store) -> None:
    record = apply_connection(store, world.connection())
    assert "key" not in record.config["shop"] and "agreement_grant_token" not in record.config["erp"]
    assert record.secrets["shop.key"] == world.shop_state.api_key
    assert set(record.secrets) == {"shop.key", "erp.app_secret_token", "erp.agreement_grant_token", "webhook_secret"}


def test_a_webhook_secret_is_generated_kept_on_re_apply_or_taken_from_the_file(world: World, store: Store) -> None:
    generated = apply_connection(store, world.connection()).secrets["webhook_secret"]
    assert len(generated) >= 32
    assert apply_connection(store, world.connection()).secrets["webhook_secret"] == generated
    given = world.connection() | {"webhook_secret": "merchant-chosen-secret"}
    assert apply_connection(store, given).secrets["webhook_secret"] == "merchant-chosen-secret"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "a/b"}, "without '/'"),
        ({"shop": None}, r"needs a \[shop\] table"),
        ({"erp": {"system": "visma-net"}}, "unknown system 'visma-net'"),
        ({"orders": {"trigger_statuses": []}}, r"invalid \[orders\] rules"),
        ({"orders": {"trigger_statuses": ["2"], "document": "receipt"}}, r"invalid \[orders\] rules"),
        ({"orders": {"trigger_statuses": ["2"], "surprise": 1}}, r"invalid \[orders\] rules"),
    ],
)
def test_invalid_connections_are_refused_with_the_reason(
    world: World, store: Store, change: dict[str, Any], message: str
) -> None:
    data = world.connection()
    data.update(change)
    with pytest.raises(ConfigError, match=message):
        apply_connection(store, data)
    assert store.connections.list() == []


def test_invalid_shop_settings_are_refused(world: World, store: Store) -> None:
    data = world.connection()
    data["shop"]["url"] = "ftp://shop.example"
    with pytest.raises(ConfigError, match="invalid prestashop settings"):
        apply_connection(store, data)
