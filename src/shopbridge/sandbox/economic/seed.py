"""Seeding of the emulated e-conomic agreement: reference data, the demo catalog, test customers and products."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from shopbridge.sandbox import catalog
from shopbridge.sandbox.economic.query import Json
from shopbridge.sandbox.economic.state import COLLECTIONS, EconomicState, store_customer, store_product


def seeded_state(seed: int = 0) -> EconomicState:
    """Vat zones, units, layouts, terms, groups, currencies and the demo catalog; no customers."""
    state = EconomicState(seed=seed)
    for path, rows in _SEED_ROWS.items():
        key = COLLECTIONS[path].key
        state.tables[path] = {row[key]: row for row in copy.deepcopy(rows)}
    now = state.timestamp()
    for product in _catalog_products():
        state.tables["products"][product["productNumber"]] = {**product, "lastUpdated": now}
    return state


def _catalog_products() -> list[Json]:
    """One product per SKU of the demo catalog, then the order-level helper products."""
    products = []
    for item in catalog.DEMO_PRODUCTS:
        group = 2 if item.vat_rate == 0 else 1
        for variant in item.variants or (None,):
            name = f"{item.name} ({', '.join(variant.options.values())})" if variant else item.name
            price = item.price + (variant.price_impact if variant else Decimal("0"))
            products.append(_product(variant.sku if variant else item.sku, name, price, group))
    return products + [_product(*extra) for extra in _EXTRA_PRODUCTS]


def _product(number: str, name: str, price: Decimal, group: int) -> Json:
    return {"productNumber": number, "name": name, "salesPrice": price,
            "productGroup": {"productGroupNumber": group}, "unit": {"unitNumber": 1, "name": "stk."}}  # fmt: skip


_EXTRA_PRODUCTS = (
    ("SHIPPING", "Fragt", catalog.SHIPPING_NET, 1), ("FEE", "Gebyr", Decimal("0.00"), 1),
    ("DISCOUNT", "Rabat", Decimal("0.00"), 1), ("ROUNDING", "Øreafrunding", Decimal("0.00"), 2),
    ("DISCOUNT0", "Rabat, momsfri", Decimal("0.00"), 2),
)  # fmt: skip
_SEED_ROWS: dict[str, list[Json]] = {
    "vat-zones": [
        {"vatZoneNumber": n, "name": name, "enabledForCustomer": True, "enabledForSupplier": n != 4}
        for n, name in ((1, "Domestic"), (2, "EU"), (3, "Abroad"), (4, "Domestic exempt VAT"))
    ],
    "units": [{"unitNumber": n, "name": name} for n, name in enumerate(("stk.", "timer", "pcs.", "meter", "hours"), 1)],
    "layouts": [{"layoutNumber": n, "name": name} for n, name in
                ((19, "Standard"), (20, "Standard engelsk"), (21, "Standard med logo"))],
    "payment-terms": [
        {"paymentTermsNumber": n, "name": name, "paymentTermsType": kind, "daysOfCredit": days}
        for n, name, kind, days in (
            (1, "Netto 8 dage", "net", 8), (2, "Netto 14 dage", "net", 14), (3, "Netto 30 dage", "net", 30),
            (4, "Løbende måned + 30 dage", "invoiceMonth", 30), (5, "Kontant", "paidInCash", 0),
            (6, "Kreditkort", "creditcard", 0),
        )
    ],
    "product-groups": [{"productGroupNumber": n, "name": name} for n, name in
                       enumerate(("Varer m/moms", "Varer u/moms", "Ydelser m/moms", "Ydelser u/moms"), 1)],
    "customer-groups": [{"customerGroupNumber": n, "name": name, "layout": {"layoutNumber": 19}} for n, name in
                        ((1, "Danske"), (2, "Udenlandske"))],
    "currencies": [{"code": code, "isoNumber": iso, "name": name} for code, iso, name in (
        ("DKK", "208", "Danske kroner"), ("EUR", "978", "Euro"), ("SEK", "752", "Svenske kroner"),
        ("NOK", "578", "Norske kroner"), ("USD", "840", "US-dollar"))],
}  # fmt: skip


def add_customer(state: EconomicState, **fields: Any) -> int:
    defaults: Json = {"name": "Test customer", "currency": "DKK", "customerGroup": {"customerGroupNumber": 1},
                      "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": 1}}  # fmt: skip
    return int(store_customer(state, {**defaults, **fields})["customerNumber"])


def add_product(state: EconomicState, product_number: str, name: str, sales_price: Decimal, group: int = 1) -> str:
    body = {"productNumber": product_number, "name": name, "salesPrice": sales_price,
            "productGroup": {"productGroupNumber": group}, "unit": {"unitNumber": 1}}  # fmt: skip
    return str(store_product(state, body)["productNumber"])
