"""Starweb Shop API v2 connector."""

from shopbridge.connectors.starweb.connector import StarwebConnector, StarwebSettings

__all__ = ["StarwebConnector", "StarwebSettings"]
