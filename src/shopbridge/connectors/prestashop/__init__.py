"""PrestaShop webservice connector (1.6, 1.7, 8.x): orders out of the shop."""

from shopbridge.connectors.prestashop.connector import PrestaShopConnector, PrestaShopSettings

__all__ = ["PrestaShopConnector", "PrestaShopSettings"]
