"""Seeding of the emulated Hogia organisation: Swedish VAT codes, the demo catalogue and fee articles."""

from __future__ import annotations

from decimal import Decimal

from shopbridge.sandbox import catalog
from shopbridge.sandbox.hogia.state import HogiaState, Json

# Swedish output VAT (utgående moms) and VAT-free sales; rates are percentages as in `vatcodes`.
VAT_CODES: tuple[tuple[str, str, Decimal], ...] = (
    ("MP1", "Utgående moms 25 %", Decimal("25")),
    ("MP2", "Utgående moms 12 %", Decimal("12")),
    ("MP3", "Utgående moms 6 %", Decimal("6")),
    ("MF", "Momsfri försäljning", Decimal("0")),
)
SALES_ACCOUNTS = {"MP1": "3001", "MP2": "3002", "MP3": "3003", "MF": "3004"}
# The fee articles integrators book order-level amounts on (spec §1), plus one for öre rounding.
FEE_ARTICLES: tuple[tuple[str, str, str], ...] = (
    ("fraktavg", "Fraktavgift", "MP1"),
    ("expavg", "Expeditionsavgift", "MP1"),
    ("rabatt", "Rabatt", "MP1"),
    ("oresavr", "Öresavrundning", "MF"),
)


def seeded_state(seed: int = 0) -> HogiaState:
    """VAT codes, one article per demo SKU and the fee articles; no contacts, no invoices."""
    state = HogiaState(seed=seed)
    for code, description, rate in VAT_CODES:
        state.vat_codes[code] = {"id": f"vat-{code.lower()}", "code": code, "description": description, "rate": rate}
    for item in catalog.DEMO_PRODUCTS:
        code = vat_code_for(item.vat_rate)
        for variant in item.variants or (None,):
            name = f"{item.name} ({', '.join(variant.options.values())})" if variant else item.name
            price = item.price + (variant.price_impact if variant else Decimal(0))
            add_article(state, variant.sku if variant else item.sku, name, price, code, stock=item.stock)
    for number, name, code in FEE_ARTICLES:
        add_article(state, number, name, Decimal("0.00"), code, stock=0)
    return state


def vat_code_for(rate: Decimal) -> str:
    """The seeded VAT code of a rate given as a fraction (0.25)."""
    return next(code for code, _, percent in VAT_CODES if percent == rate * 100)


def add_article(
    state: HogiaState, number: str, name: str, price: Decimal, vat_code: str = "MP1", stock: int = 0
) -> Json:
    state.articles[number] = {
        "id": state.new_id(), "number": number, "name": name, "unitPrice": price, "vatCode": vat_code,
        "salesAccountNumber": SALES_ACCOUNTS.get(vat_code, "3001"), "stockBalance": Decimal(stock),
        "sendToWebshop": True, "isActive": True,
    }  # fmt: skip
    return state.articles[number]


def add_contact(state: HogiaState, given_name: str, sur_name: str, email: str, number: str | None = None) -> Json:
    """A private-person customer as a bookkeeper would have entered it."""
    contact_id = state.new_id()
    state.contacts[contact_id] = {
        "id": contact_id, "organizationId": state.organization_id, "number": number or state.take_contact_number(),
        "isOrganization": False, "companyName": "", "givenName": given_name, "surName": sur_name,
        "identificationNumber": "", "vatNumber": "", "countryCode": "SE", "contactTypes": [1], "addresses": [],
        "contactChannels": [{"type": "Email", "value": email}], "customer": {"isActive": True, "paymentTerms": 30},
    }  # fmt: skip
    return state.contacts[contact_id]
