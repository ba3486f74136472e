"""The e-conomic emulator's store: collections, running number series, rate budget and stored writes."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shopbridge.sandbox.economic.documents import validate_customer, validate_product
from shopbridge.sandbox.economic.errors import VALIDATION_HINT, ApiError
from shopbridge.sandbox.economic.query import REFERENCE_KEYS, Json
from shopbridge.sandbox.faults import FaultPlan
from shopbridge.sandbox.limits import TokenBucket

DEMO_APP_SECRET_TOKEN = "shopbridge-demo-app-secret"
DEMO_AGREEMENT_GRANT_TOKEN = "shopbridge-demo-agreement-grant"
DOCUMENT_COLLECTIONS = ("orders/drafts", "orders/sent", "orders/archived", "invoices/drafts", "invoices/booked")
FIRST_NUMBERS = {"customers": 1, "orders": 1, "invoices/drafts": 1, "invoices/booked": 1}


@dataclass(frozen=True)
class Collection:
    path: str
    key: str
    filterable: frozenset[str]
    series: str | None = None  # the running number series that assigns `key`


def _collection(path: str, key: str, *filterable: str, series: str | None = None) -> Collection:
    return Collection(path, key, frozenset((key, *filterable)), series)


_DOCUMENT_FILTERABLE = ("date", "dueDate", "currency", "customer.customerNumber", "references.other",
                        "delivery.*", "recipient.*", "netAmount", "grossAmount", "vatAmount")  # fmt: skip
COLLECTIONS = {c.path: c for c in (
    _collection("customers", "customerNumber", "address", "balance", "barred", "city", "corporateIdentificationNumber",
                "country", "creditLimit", "currency", "ean", "email", "lastUpdated", "name", "publicEntryNumber",
                "telephoneAndFaxNumber", "vatNumber", "website", "zip", series="customers"),
    _collection("products", "productNumber", "barCode", "barred", "costPrice", "description", "inventory.*",
                "lastUpdated", "name", "productGroup.productGroupNumber", "recommendedPrice", "salesPrice",
                "unit.unitNumber"),
    _collection("product-groups", "productGroupNumber", "name"),
    _collection("vat-zones", "vatZoneNumber", "name"),
    _collection("units", "unitNumber", "name"),
    _collection("layouts", "layoutNumber", "name"),
    _collection("payment-terms", "paymentTermsNumber", "name", "paymentTermsType", "daysOfCredit"),
    _collection("customer-groups", "customerGroupNumber", "name"),
    _collection("currencies", "code", "name", "isoNumber"),
    _collection("orders/drafts", "orderNumber", *_DOCUMENT_FILTERABLE, series="orders"),
    _collection("orders/sent", "orderNumber", *_DOCUMENT_FILTERABLE, series="orders"),
    _collection("orders/archived", "orderNumber", *_DOCUMENT_FILTERABLE, series="orders"),
    _collection("invoices/drafts", "draftInvoiceNumber", *_DOCUMENT_FILTERABLE, series="invoices/drafts"),
    _collection("invoices/booked", "bookedInvoiceNumber", "orderNumber", "remainder", *_DOCUMENT_FILTERABLE,
                series="invoices/booked"),
)}  # fmt: skip


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class EconomicState:
    app_secret_token: str = DEMO_APP_SECRET_TOKEN
    agreement_grant_token: str = DEMO_AGREEMENT_GRANT_TOKEN
    base_url: str = ""
    faults: FaultPlan = field(default_factory=FaultPlan)
    clock: Callable[[], datetime] = _utc_now
    rate_limit: TokenBucket | None = None
    round_trip_seconds: float = 0.0
    demo_read_access: bool = True
    seed: int = 0
    tables: dict[str, dict[Any, Json]] = field(default_factory=lambda: {path: {} for path in COLLECTIONS})
    next_numbers: dict[str, int] = field(default_factory=lambda: dict(FIRST_NUMBERS))
    calls_by_day: dict[str, int] = field(default_factory=dict)
    # (collection, key) → monotonic time from which a new record shows in filtered lists.
    hidden_until: dict[tuple[str, Any], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def log_id(self) -> str:
        return f"{self._random.getrandbits(64):016x}-CPH"

    def timestamp(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def next_number(self, series: str) -> int:
        """The series' next number that no resource holds yet."""
        taken = [self.tables[c.path] for c in COLLECTIONS.values() if c.series == series]
        number = self.next_numbers[series]
        while any(number in table for table in taken):
            number += 1
        self.next_numbers[series] = number + 1
        return number


def hide_new_records(state: EconomicState, before: dict[str, set[Any]], seconds: float) -> None:
    """Keep records created since `before` out of filtered lists for `seconds` (fault plan)."""
    if seconds <= 0:
        return
    until = time.monotonic() + seconds
    for path, table in state.tables.items():
        for key in table.keys() - before.get(path, set()):
            state.hidden_until[(path, key)] = until


def visible_in_filtered_lists(state: EconomicState, path: str, key: Any) -> bool:
    until = state.hidden_until.get((path, key))
    return until is None or until <= time.monotonic()


def find_document(state: EconomicState, collection: str, number: int) -> Json | None:
    """A stored document (amounts as Decimal) in one of DOCUMENT_COLLECTIONS, or None."""
    return state.tables[collection].get(number)


def get_document(state: EconomicState, collection: str, number: int) -> Json:
    document = find_document(state, collection, number)
    if document is None:
        raise KeyError(f"no document {number} in {collection}")
    return document


def documents_by_reference(state: EconomicState) -> dict[str, list[tuple[str, int]]]:
    """Every `references.other` value with the (collection, number) of each document carrying it."""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for path in DOCUMENT_COLLECTIONS:
        for number, document in sorted(state.tables[path].items()):
            other = document.get("references", {}).get("other")
            if other is not None:
                found[other].append((path, number))
    return dict(found)


def store_customer(state: EconomicState, body: Json, number: int | None = None) -> Json:
    """Validate and keep a customer: a new one (numbered unless the body names a free number) or `number` replaced."""
    customer = validate_customer(body, state.tables)
    table = state.tables["customers"]
    if number is None:
        number = customer.get("customerNumber") or state.next_number("customers")
        if number in table:
            raise ApiError(400, "A customer with this customerNumber already exists.", VALIDATION_HINT)
    balance = table.get(number, {}).get("balance", Decimal("0.00"))
    table[number] = {**customer, "customerNumber": number, "balance": balance, "lastUpdated": state.timestamp()}
    return table[number]


def store_product(state: EconomicState, body: Json, number: str | None = None) -> Json:
    """Validate and keep a product: a new one under its own productNumber, or `number` replaced."""
    product = validate_product({**body, "productNumber": number} if number else body, state.tables)
    table = state.tables["products"]
    if number is None and product["productNumber"] in table:
        raise ApiError(400, "A product with this productNumber already exists.", VALIDATION_HINT)
    table[product["productNumber"]] = {**product, "lastUpdated": state.timestamp()}
    return table[product["productNumber"]]


def in_use(state: EconomicState, reference: str, number: Any) -> bool:
    """True when a document or one of its lines refers to the `reference` (customer, product) with `number`."""
    key = REFERENCE_KEYS[reference][0]
    for path in DOCUMENT_COLLECTIONS:
        for document in state.tables[path].values():
            refs = [document.get(reference)] + [line.get(reference) for line in document.get("lines", [])]
            if any(isinstance(ref, dict) and ref.get(key) == number for ref in refs):
                return True
    return False
