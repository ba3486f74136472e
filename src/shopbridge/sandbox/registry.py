"""The emulators `shopbridge sandbox serve` knows, each seeded and ready to serve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopbridge.sandbox import economic, prestashop, starweb


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
    if system == "starweb":
        web_shop = starweb.seeded_state(seed=seed, orders=orders)
        credentials = {"client_id": web_shop.client_id, "client_secret": web_shop.client_secret}
        return Emulator(starweb.create_app(web_shop), "/api/v2", credentials)
    raise LookupError(f"no emulator for {system!r}; choose prestashop, economic or starweb")
