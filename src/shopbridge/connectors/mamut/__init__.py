"""Mamut One Enterprise connector: orders and customers through the on-premises agent's Import/Export files."""

from shopbridge.connectors.mamut.connector import MamutConnector, MamutSettings

__all__ = ["MamutConnector", "MamutSettings"]
