"""Connection files (TOML or YAML): read, resolve `env:NAME` secrets, validate, store.

A file names one connection: its `[shop]` and `[erp]` settings and its `[orders]` rules.
Fields a connector declares secret are stored encrypted and apart from the rest.
"""

from __future__ import annotations

import os
import secrets as secrets_module
import tomllib
from pathlib import Path
from typing import Any

import yaml

from shopbridge.connectors.registry import ERP_SYSTEMS, SHOP_SYSTEMS, secret_fields, settings_for
from shopbridge.errors import ConfigError
from shopbridge.flows.rules import OrderRules
from shopbridge.store import ConnectionRecord, Store

ENV_PREFIX = "env:"


WEBHOOK_SECRET_KEY = "webhook_secret"


def read_connection_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table at the top level")
    return data


def resolve_env(value: Any, where: str) -> Any:
    """Replace an `env:NAME` value with the environment variable NAME."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        if name not in os.environ:
            raise ConfigError(f"{where} refers to environment variable {name}, which is not set")
        return os.environ[name]
    return value


def _webhook_secret(store: Store, name: str, data: dict[str, Any]) -> str:
    """The file's `webhook_secret`, else the one stored before (a re-apply keeps it), else a new one."""
    given = data.get("webhook_secret")
    if given:
        return str(resolve_env(given, "webhook_secret"))
    try:
        stored = store.connections.get(name).secrets.get(WEBHOOK_SECRET_KEY)
    except LookupError:
        stored = None
    return stored or secrets_module.token_urlsafe(32)


def apply_connection(store: Store, data: dict[str, Any]) -> ConnectionRecord:
    """Validate a parsed connection file and store it (an existing one is replaced)."""
    name = str(data.get("name", "")).strip()
    if not name or "/" in name:
        raise ConfigError("a connection needs a `name` without '/'")
    config: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for side, systems in (("shop", SHOP_SYSTEMS), ("erp", ERP_SYSTEMS)):
        raw = data.get(side)
        if not isinstance(raw, dict):
            raise ConfigError(f"connection {name} needs a [{side}] table")
        values = {key: resolve_env(value, f"{side}.{key}") for key, value in raw.items()}
        settings_for(systems, values)
        hidden = secret_fields(systems, values["system"])
        config[side] = {key: value for key, value in values.items() if key not in hidden}
        secrets.update({f"{side}.{key}": str(values[key]) for key in hidden if key in values})
    secrets[WEBHOOK_SECRET_KEY] = _webhook_secret(store, name, data)
    try:
        config["orders"] = OrderRules.model_validate(data.get("orders", {})).model_dump(mode="json")
    except ValueError as exc:
        raise ConfigError(f"invalid [orders] rules of connection {name}: {exc}") from exc
    return store.connections.apply(
        name,
        config["shop"]["system"],
        config["erp"]["system"],
        config,
        secrets,
        tenant=str(data.get("tenant", "default")),
    )
