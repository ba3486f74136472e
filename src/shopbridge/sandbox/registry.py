"""The emulators `shopbridge sandbox serve` knows, each seeded and ready to serve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopbridge.sandbox import economic, norce, prestashop


@dataclass(frozen=True)
class Emulator:
    app: Any
    path: str
    credentials: dict[str, str]


def build_emulator(system: str, seed: int = 0, orders: int = 0) -> Emulator:
    if system == "prestashop":
        shop = prestashop.seeded_state(seed=seed, orders=orders)
        return Emulator(prestashop.create_app(shop), "/api/", {"webservice key": shop.api_key})
    if system == "economic":
        erp = economic.seeded_state(seed=seed)
        credentials = {"X-AppSecretToken": erp.app_secret_token, "X-AgreementGrantToken": erp.agreement_grant_token}
        return Emulator(economic.create_app(erp), "/", credentials)
    if system == "norce":
        return _norce(seed, orders)
    raise LookupError(f"no emulator for {system!r}; choose prestashop, norce or economic")


def _norce(seed: int, orders: int) -> Emulator:
    tenant = norce.seeded_state(seed=seed, orders=orders)
    credentials = {"client_id": tenant.client_id, "client_secret": tenant.client_secret, "scope": tenant.environment}
    for channel in tenant.channels.values():
        credentials[f"channel {channel.name}"] = f"applicationId {channel.id}, key {channel.key}"
    return Emulator(norce.create_app(tenant), "/", credentials)
