"""e-conomic (Visma) connector: customers, order drafts and invoices over the REST API."""

from shopbridge.connectors.economic.connector import EconomicConnector, EconomicSettings

__all__ = ["EconomicConnector", "EconomicSettings"]
