"""The Hogia emulator's store: one organisation's contacts, articles, invoices, VAT codes and tokens."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shopbridge.sandbox.faults import FaultPlan
from shopbridge.sandbox.limits import TokenBucket

Json = dict[str, Any]

DEMO_CLIENT_ID = "shopbridge-demo-client"
DEMO_CLIENT_SECRET = "shopbridge-demo-client-secret"
DEMO_ORGANIZATION_ID = "7d0f5c1e-2b6a-4c3e-9a57-5b8e2f0c4d11"
TOKEN_LIFETIME_SECONDS = 3600
FIRST_CONTACT_NUMBER = 1001
FIRST_INVOICE_NUMBER = 5001


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class HogiaState:
    """Everything the emulator knows; tests read and change it directly."""

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    organization_id: str = DEMO_ORGANIZATION_ID
    token_lifetime: int = TOKEN_LIFETIME_SECONDS
    faults: FaultPlan = field(default_factory=FaultPlan)
    clock: Callable[[], datetime] = _utc_now
    rate_limit: TokenBucket | None = None
    # A new invoice reaches filtered lists only this long after it was created (0: at once).
    listing_lag: timedelta = timedelta(0)
    seed: int = 0
    tokens: dict[str, datetime] = field(default_factory=dict)
    vat_codes: dict[str, Json] = field(default_factory=dict)
    articles: dict[str, Json] = field(default_factory=dict)
    contacts: dict[str, Json] = field(default_factory=dict)
    invoices: dict[str, Json] = field(default_factory=dict)
    sequence_ids: dict[str, str] = field(default_factory=dict)  # sequenceId → id of what it created
    next_contact_number: int = FIRST_CONTACT_NUMBER
    next_invoice_number: int = FIRST_INVOICE_NUMBER
    calls: int = 0

    def issue_token(self) -> str:
        token = uuid.uuid4().hex
        self.tokens[token] = self.clock() + timedelta(seconds=self.token_lifetime)
        return token

    def token_valid(self, token: str) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and self.clock() < expires

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def timestamp(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def take_contact_number(self) -> str:
        taken = {contact["number"] for contact in self.contacts.values()}
        while str(self.next_contact_number) in taken:
            self.next_contact_number += 1
        self.next_contact_number += 1
        return str(self.next_contact_number - 1)

    def take_invoice_number(self) -> int:
        self.next_invoice_number += 1
        return self.next_invoice_number - 1

    def listed_yet(self, invoice: Json) -> bool:
        created = datetime.strptime(invoice["createdDate"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return self.clock() >= created + self.listing_lag

    def contact_by_number(self, number: str) -> Json | None:
        return next((contact for contact in self.contacts.values() if contact["number"] == number), None)


def documents_by_reference(state: HogiaState) -> dict[str, list[tuple[str, str]]]:
    """Every invoice `externalReference` with the (kind, number) of each invoice carrying it, oldest first.

    Drafts are named by their id, booked invoices by their invoice number.
    """
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for invoice in state.invoices.values():  # insertion order is creation order
        reference = invoice["invoiceHeader"].get("externalReference")
        if reference:
            if invoice["customerInvoiceState"] == "Booked":
                found[reference].append(("booked_invoice", str(invoice["invoiceNumber"])))
            else:
                found[reference].append(("draft_invoice", invoice["id"]))
    return dict(found)
