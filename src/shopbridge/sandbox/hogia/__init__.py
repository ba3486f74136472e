"""Speculative emulator of the Hogia cloud REST API: token, contacts, articles, invoices, VAT codes."""

from shopbridge.sandbox.hogia.app import TOKEN_PATH, create_app
from shopbridge.sandbox.hogia.seed import add_article, add_contact, seeded_state
from shopbridge.sandbox.hogia.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_ORGANIZATION_ID,
    HogiaState,
    documents_by_reference,
)
from shopbridge.sandbox.limits import TokenBucket

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_ORGANIZATION_ID",
    "TOKEN_PATH",
    "HogiaState",
    "TokenBucket",
    "add_article",
    "add_contact",
    "create_app",
    "documents_by_reference",
    "seeded_state",
]
