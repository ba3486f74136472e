"""Which connector serves which system, and how to build one from a stored connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopbridge.connectors.base import ConnectorSettings, DocumentSink, OrderSource
from shopbridge.connectors.calls import RateBudget
from shopbridge.connectors.economic import EconomicConnector, EconomicSettings
from shopbridge.connectors.hogia import HogiaConnector, HogiaSettings
from shopbridge.connectors.mamut import MamutConnector, MamutSettings
from shopbridge.connectors.norce import NorceConnector, NorceSettings
from shopbridge.connectors.prestashop import PrestaShopConnector, PrestaShopSettings
from shopbridge.connectors.starweb import StarwebConnector, StarwebSettings
from shopbridge.errors import ConfigError

ConnectorFactory = Callable[..., Any]
SystemTable = dict[str, tuple[type[ConnectorSettings], ConnectorFactory]]

SHOP_SYSTEMS: SystemTable = {
    "prestashop": (PrestaShopSettings, PrestaShopConnector),
    "starweb": (StarwebSettings, StarwebConnector),
    "norce": (NorceSettings, NorceConnector),
}
ERP_SYSTEMS: SystemTable = {
    "economic": (EconomicSettings, EconomicConnector),
    "hogia": (HogiaSettings, HogiaConnector),
    "mamut": (MamutSettings, MamutConnector),
}


def settings_for(
    systems: SystemTable, values: dict[str, Any]
) -> ConnectorSettings:
    """Validate one side's settings; unknown systems and bad values are configuration errors."""
    system = str(values.get("system", ""))
    if system not in systems:
        raise ConfigError(f"unknown system {system!r}; known: {', '.join(sorted(systems))}")
    model, _ = systems[system]
    try:
        return model.model_validate(values)
    except ValueError as exc:
        raise ConfigError(f"invalid {system} settings: {exc}", system=system) from exc


def secret_fields(systems: SystemTable, system: str) -> tuple[str, ...]:
    model, _ = systems[system]
    return tuple(getattr(model, "secret_fields", ()))


def build_source(values: dict[str, Any], budget: RateBudget | None = None) -> OrderSource:
    settings = settings_for(SHOP_SYSTEMS, values)
    source: OrderSource = SHOP_SYSTEMS[settings.system][1](settings, budget=budget)
    return source


def build_sink(values: dict[str, Any], budget: RateBudget | None = None) -> DocumentSink:
    settings = settings_for(ERP_SYSTEMS, values)
    sink: DocumentSink = ERP_SYSTEMS[settings.system][1](settings, budget=budget)
    return sink
