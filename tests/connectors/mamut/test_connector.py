"""Mamut connector settings: validated with messages that say what to fix."""

from __future__ import annotations

from typing import Any

import pytest

from shopbridge.connectors.mamut import MamutSettings
from shopbridge.connectors.registry import ERP_SYSTEMS, secret_fields, settings_for
from shopbridge.errors import ConfigError

TOKEN = "sbagent_" + "a" * 43


def mamut_values(**values: Any) -> dict[str, Any]:
    return {"system": "mamut", "url": "https://shopbridge.example.com", "agent_token": TOKEN} | values


def test_mamut_is_registered_and_its_token_is_a_secret() -> None:
    settings = settings_for(ERP_SYSTEMS, mamut_values())
    assert isinstance(settings, MamutSettings) and settings.warehouse == 1
    assert secret_fields(ERP_SYSTEMS, "mamut") == ("agent_token",)
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"agent_token": None}, "agent_token"),
        ({"agent_token": "short"}, "shopbridge agent token"),
        ({"agent_token": TOKEN + " x"}, "shopbridge agent token"),
        ({"url": "shopbridge.example.com"}, "http"),
        ({"warehouse": "main"}, "warehouse"),
    ],
)
def test_bad_settings_are_configuration_errors_naming_the_field(values: dict[str, Any], message: str) -> None:
    given = {key: value for key, value in mamut_values(**values).items() if value is not None}
    with pytest.raises(ConfigError, match=message):
        settings_for(ERP_SYSTEMS, given)
