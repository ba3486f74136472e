"""e-conomic REST API emulator; app.py lists the choices made where the spec is silent."""

from shopbridge.sandbox.economic.app import create_app
from shopbridge.sandbox.economic.seed import add_customer, add_product, seeded_state
from shopbridge.sandbox.economic.state import (
    DEMO_AGREEMENT_GRANT_TOKEN,
    DEMO_APP_SECRET_TOKEN,
    EconomicState,
    documents_by_reference,
    find_document,
    get_document,
)
from shopbridge.sandbox.limits import TokenBucket

__all__ = [
    "DEMO_AGREEMENT_GRANT_TOKEN",
    "DEMO_APP_SECRET_TOKEN",
    "EconomicState",
    "TokenBucket",
    "add_customer",
    "add_product",
    "create_app",
    "documents_by_reference",
    "find_document",
    "get_document",
    "seeded_state",
]
