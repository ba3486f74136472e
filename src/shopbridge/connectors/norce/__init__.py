"""Norce Commerce (formerly Jetshop) connector: orders per channel out of the Query API."""

from shopbridge.connectors.norce.connector import NorceChannel, NorceConnector, NorceSettings

__all__ = ["NorceChannel", "NorceConnector", "NorceSettings"]
