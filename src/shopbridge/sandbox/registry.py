"""The emulators `shopbridge sandbox serve` knows, each seeded and ready to serve."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopbridge.sandbox import economic, mamut, prestashop


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
    raise LookupError(f"no emulator for {system!r}; choose prestashop, economic or mamut (with --dir)")


def build_folder_emulator(system: str, directory: Path, seed: int = 0) -> mamut.MamutRunner:
    """Emulators of systems that exchange files rather than speak HTTP (Mamut's Import/Export)."""
    if system == "mamut":
        return mamut.create_app(mamut.seeded_state(seed=seed), directory)
    raise LookupError(f"{system!r} is not a folder-watching emulator; only mamut is")
