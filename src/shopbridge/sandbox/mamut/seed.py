"""A Mamut company seeded from the shared demo catalogue, plus the service products orders need."""

from __future__ import annotations

import random
from decimal import Decimal

from shopbridge.sandbox import catalog
from shopbridge.sandbox.mamut.state import MAIN_WAREHOUSE, VAT_CODES, Contact, MamutState, Product

# Products a web order's service lines go to (freight, fees, vouchers); numbers are a choice.
SERVICE_PRODUCTS = (("FRAKT", "Freight", catalog.SHIPPING_NET), ("GEBYR", "Fee", Decimal(0)),
                    ("RABATT", "Discount", Decimal(0)))  # fmt: skip


def vat_code_for(rate: Decimal) -> int:
    return next(code for code, known in VAT_CODES.items() if known == rate)


def add_product(
    state: MamutState, number: str, description: str, price: Decimal, rate: Decimal = Decimal("0.25"),
    stock: dict[int, Decimal] | None = None,
) -> Product:
    """A product in stock in the main warehouse unless `stock` names other warehouses."""
    product = Product(number, description, price, vat_code_for(rate), stock=stock or {MAIN_WAREHOUSE: Decimal(100)})
    product.default_warehouse = min(product.stock)
    with state.lock:
        state.products[number] = product
    return product


def add_customer(state: MamutState, name: str, email: str = "", organisation_number: str = "") -> Contact:
    with state.lock:
        contact = Contact(state.new_contact_number(), name, email=email, organisation_number=organisation_number)
        state.contacts[contact.number] = contact
    return contact


def seeded_state(seed: int = 0, customers: int = 0) -> MamutState:
    """Every catalogue SKU as a product with stock; `customers` demo contacts already registered."""
    state = MamutState()
    rng = random.Random(seed)
    for item in catalog.DEMO_PRODUCTS:
        for sku in item.skus:
            add_product(state, sku, item.name[:60], item.price, item.vat_rate, {MAIN_WAREHOUSE: Decimal(item.stock)})
            state.products[sku].ean = f"57{rng.randrange(10**10, 10**11)}"
    for number, description, price in SERVICE_PRODUCTS:
        add_product(state, number, description, price)
    add_product(state, "AVRUND", "Rounding", Decimal(0), Decimal(0))
    for person in catalog.DEMO_CUSTOMERS[:customers]:
        contact = add_customer(state, f"{person.first_name} {person.last_name}", person.email)
        contact.street, contact.zipcode, contact.city, contact.country = (
            person.street, person.postcode, person.city, person.country)  # fmt: skip
    return state
