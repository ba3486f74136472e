"""PrestaShop webservice emulator; app.py lists the choices made where the spec is silent."""

from shopbridge.sandbox.prestashop.app import create_app
from shopbridge.sandbox.prestashop.seed import add_product, place_order, seeded_state
from shopbridge.sandbox.prestashop.state import DEMO_API_KEY, PrestaShopState, set_order_state

__all__ = [
    "DEMO_API_KEY",
    "PrestaShopState",
    "add_product",
    "create_app",
    "place_order",
    "seeded_state",
    "set_order_state",
]
