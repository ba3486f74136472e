"""The emulators `shopbridge sandbox serve` knows, each seeded and ready to serve."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopbridge.sandbox import economic, hogia, mamut, norce, prestashop, starweb
from shopbridge.sandbox.limits import TokenBucket

EMULATED_SYSTEMS = ("prestashop", "starweb", "norce", "economic", "hogia")
# What `--rate-limit` enforces: (requests, seconds), the limit each system's connector keeps to
# (PrestaShop publishes none; e-conomic publishes no numbers for its token bucket).
RATE_LIMITS = {"prestashop": (10, 1.0), "economic": (20, 1.0)}


@dataclass(frozen=True)
class Emulator:
    app: Any
    path: str
    credentials: dict[str, str]


def rate_limit_of(system: str) -> TokenBucket:
    requests, seconds = RATE_LIMITS[system]
    return TokenBucket.per_window(requests, seconds)


def build_emulator(system: str, seed: int = 0, orders: int = 0, rate_limit: bool = False) -> Emulator:
    if system == "prestashop":
        shop = prestashop.seeded_state(seed=seed, orders=orders)
        shop.rate_limit = rate_limit_of(system) if rate_limit else None
        return Emulator(prestashop.create_app(shop), "/api/", {"webservice key": shop.api_key})
    if system == "economic":
        erp = economic.seeded_state(seed=seed)
        erp.rate_limit = rate_limit_of(system) if rate_limit else None
        credentials = {"X-AppSecretToken": erp.app_secret_token, "X-AgreementGrantToken": erp.agreement_grant_token}
        return Emulator(economic.create_app(erp), "/", credentials)
    if system == "hogia":
        books = hogia.seeded_state(seed=seed)
        credentials = {"client_id": books.client_id, "client_secret": books.client_secret,
                       "organization_id": books.organization_id, "token path": hogia.TOKEN_PATH}  # fmt: skip
        return Emulator(hogia.create_app(books), "/", credentials)
    if system == "starweb":
        web_shop = starweb.seeded_state(seed=seed, orders=orders)
        credentials = {"client_id": web_shop.client_id, "client_secret": web_shop.client_secret}
        return Emulator(starweb.create_app(web_shop), "/api/v2", credentials)
    if system == "norce":
        return _norce(seed, orders)
    raise LookupError(f"no emulator for {system!r}; choose one of {', '.join(EMULATED_SYSTEMS)}")



def _norce(seed: int, orders: int) -> Emulator:
    tenant = norce.seeded_state(seed=seed, orders=orders)
    credentials = {"client_id": tenant.client_id, "client_secret": tenant.client_secret, "scope": tenant.environment}
    for channel in tenant.channels.values():
        credentials[f"channel {channel.name}"] = f"applicationId {channel.id}, key {channel.key}"
    return Emulator(norce.create_app(tenant), "/", credentials)


def build_folder_emulator(system: str, directory: Path, seed: int = 0) -> mamut.MamutRunner:
    """Emulators of systems that exchange files rather than speak HTTP (Mamut's Import/Export)."""
    if system == "mamut":
        return mamut.create_app(mamut.seeded_state(seed=seed), directory)
    raise LookupError(f"{system!r} is not a folder-watching emulator; only mamut is")
