"""Hogia Smart connector: contacts and customer invoices over Hogia's cloud REST API."""

from shopbridge.connectors.hogia.connector import HogiaConnector, HogiaSettings

__all__ = ["HogiaConnector", "HogiaSettings"]
