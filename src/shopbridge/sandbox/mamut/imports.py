"""Mamut's import semantics (spec §2): new order numbers, external numbers kept, contacts matched or created."""

from __future__ import annotations

from decimal import Decimal

from shopbridge.sandbox.mamut.documents import (
    ImportRejected,
    ParsedLine,
    ParsedOrder,
    contact_from,
    order_from,
    product_from,
    read_import,
)
from shopbridge.sandbox.mamut.state import (
    FREE_TEXT_PRODUCT,
    VAT_CODES,
    Contact,
    MamutOrder,
    MamutState,
    OrderLine,
    Product,
)


def apply_file(state: MamutState, data: bytes) -> list[str]:
    """Import one file all or nothing; returns what was created or updated, for the import log."""
    parsed = read_import(data)
    with state.lock:
        if parsed.format == "GBAOX10":
            orders = [order_from(record) for record in parsed.records]
            for order in orders:
                check_lines(state, order.lines)
            return [import_order(state, order) for order in orders]
        if parsed.format == "GBACX10":
            return [import_contact(state, contact_from(record)) for record in parsed.records]
        return [import_product(state, product_from(record)) for record in parsed.records]


def check_lines(state: MamutState, lines: list[ParsedLine]) -> None:
    """Refuse lines Mamut cannot take: unknown VAT code, a warehouse not linked to the product."""
    for line in lines:
        if line.vat_code and line.vat_code not in VAT_CODES:
            raise ImportRejected(f"VAT code {line.vat_code} does not exist")
        product = state.products.get(line.product)
        if product is not None and product.active and line.warehouse not in product.stock:
            raise ImportRejected(f"warehouse {line.warehouse} is not linked to product {product.number}")


def match_contact(state: MamutState, wanted: Contact) -> Contact | None:
    """Customer number first, then e-mail, then organisation number (the integrators' rules, spec §4)."""
    if wanted.number and wanted.number in state.contacts:
        return state.contacts[wanted.number]
    for key in ("email", "organisation_number"):
        value = getattr(wanted, key).lower()
        if value:
            for contact in state.contacts.values():
                if getattr(contact, key).lower() == value:
                    return contact
    return None


def import_contact(state: MamutState, incoming: Contact) -> str:
    """Update the matched contact (blank fields keep what is there) or create one."""
    found = match_contact(state, incoming)
    if found is None:
        incoming.number = incoming.number or state.new_contact_number()
        incoming.name = incoming.name or f"{incoming.first_name} {incoming.last_name}".strip() or incoming.email
        state.contacts[incoming.number] = incoming
        return f"customer {incoming.number} created"
    for key, value in vars(incoming).items():
        if key != "number" and value:
            setattr(found, key, value)
    return f"customer {found.number} updated"


def import_order(state: MamutState, parsed: ParsedOrder) -> str:
    contact = match_contact(state, parsed.customer)
    if contact is None:
        import_contact(state, parsed.customer)
        contact = parsed.customer
    order = MamutOrder(
        number=state.new_order_number(), external_number=parsed.external_number or parsed.order_id,
        customer=contact.number, customer_name=contact.name,
        invoice_address=parsed.invoice_address or _address_of(contact),
        delivery_address=parsed.delivery_address or _address_of(contact), reference=parsed.reference,
        lines=[_order_line(state, line) for line in parsed.lines],
    )  # fmt: skip
    state.orders[order.number] = order
    return f"order {order.number} created from {order.external_number}"


def _order_line(state: MamutState, line: ParsedLine) -> OrderLine:
    """Unknown or inactive products become free text on the DESCRIPTION product (spec §2)."""
    product = state.products.get(line.product)
    values = dict(vars(line))
    if product is None or not product.active:
        values["description"] = values["description"] or values["product"]
        values["product"] = FREE_TEXT_PRODUCT
        state.products.setdefault(FREE_TEXT_PRODUCT, Product(FREE_TEXT_PRODUCT, "Free text", Decimal(0), 0))
    elif not values["description"]:
        values["description"] = product.description
    return OrderLine(**values)


def import_product(state: MamutState, incoming: Product) -> str:
    """Create or update a product; imported products are marked for stock update (spec §1)."""
    found = state.products.get(incoming.number)
    if found is None:
        state.products[incoming.number] = incoming
        return f"product {incoming.number} created"
    found.description, found.price_out, found.vat_code = incoming.description, incoming.price_out, incoming.vat_code
    found.stock.update(incoming.stock)
    return f"product {incoming.number} updated"


def _address_of(contact: Contact) -> str:
    # Spec §2 GBAO10: ':' is the line break inside an address field.
    parts = (contact.name, contact.street, f"{contact.zipcode} {contact.city}".strip())
    return ":".join(part for part in parts if part)
