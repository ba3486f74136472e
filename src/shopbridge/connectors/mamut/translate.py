"""Canonical orders and customers as Mamut import XML, and Mamut's export XML as records (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from shopbridge.errors import DataError
from shopbridge.model import Address, Customer, Order, OrderLine, OrderLineKind

SYSTEM = "mamut"
ENCODING = "iso-8859-1"
DECLARATION = b'<?xml version="1.0" encoding="iso-8859-1"?>\n'
# Spec §2 GBAO10: maximum lengths of the order fields we fill.
LIMITS = {"CONTNAME": 50, "ADRINVO": 150, "ADRDELIV": 150, "REF": 30, "YOURREF": 30, "PRODID": 50, "DESCRIPTION": 60,
          "TEXT": 200, "STREET": 150, "ZIPCODE": 20, "CITY": 50, "EMAIL": 100, "PHONE1": 30, "ORGNO": 30,
          "CPERSFIRSTNAME": 50, "CPERSLASTNAME": 50}  # fmt: skip
QUANTITY_PLACES = Decimal("0.01")  # GBAO10 col 18: two decimals
PRICE_PLACES = Decimal("0.001")
CENT = Decimal("0.01")  # GBAO10 col 19: three decimals
MAX_AMOUNT = Decimal("999999999")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LOOKALIKES = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "€": "EUR"})


@dataclass(frozen=True)
class MamutLineCodes:
    """What a connection maps service lines and VAT rates to in its Mamut company."""

    shipping_product: str
    fee_product: str
    discount_product: str
    vat_codes: Mapping[Decimal, int]
    warehouse: int
    rounding_product: str = "AVRUND"
    rounding_tolerance: Decimal = Decimal("1.00")


@dataclass(frozen=True)
class ExportedOrder:
    number: str
    external_number: str
    status: str
    customer: str
    total: Decimal


@dataclass(frozen=True)
class ExportedCustomer:
    number: str
    name: str
    email: str
    organisation_number: str


def latin1(value: str, limit: int = 0) -> str:
    """Text Mamut can store: ISO-8859-1 only (look-alikes kept, the rest '?'), no control characters."""
    value = _NOT_XML.sub(" ", unicodedata.normalize("NFC", value).translate(_LOOKALIKES)).strip()
    value = value.encode(ENCODING, errors="replace").decode(ENCODING)
    return value[:limit] if limit else value


def _xml(root_tag: str, list_tag: str, records: list[etree._Element]) -> str:
    root = etree.Element(root_tag)
    etree.SubElement(root, list_tag).extend(records)
    body = etree.tostring(root, encoding=ENCODING, xml_declaration=False)
    return (DECLARATION + (body if isinstance(body, bytes) else body.encode(ENCODING))).decode(ENCODING)


def _record(tag: str, values: Mapping[str, object]) -> etree._Element:
    node = etree.Element(tag)
    for name, value in values.items():
        etree.SubElement(node, name).text = latin1(str(value), LIMITS.get(name, 0))
    return node


def _address(address: Address) -> str:
    # Spec §2 GBAO10 col 4/5: ':' is the line break inside an address.
    name = address.company or f"{address.first_name} {address.last_name}".strip()
    parts = (name, address.street, address.street2, f"{address.postcode} {address.city}".strip(), address.country)
    return ":".join(latin1(part).replace(":", " ") for part in parts if part)


def _name(customer: Customer) -> str:
    return customer.company or f"{customer.first_name} {customer.last_name}".strip() or customer.email


def customer_to_mamut(customer: Customer) -> str:
    """A GBACX10 file with one new customer (CONTID 0: Mamut gives the next number)."""
    address = customer.address
    values = {"CONTID": 0, "CONTNAME": _name(customer), "STREET": address.street, "ZIPCODE": address.postcode,
              "CITY": address.city, "DATA56": address.country, "EMAIL": customer.email,
              "PHONE1": customer.phone or address.phone, "ORGNO": customer.vat_number,
              "CPERSFIRSTNAME": customer.first_name, "CPERSLASTNAME": customer.last_name}  # fmt: skip
    return _xml("GBACX10", "CUSTOMERLIST", [_record("CUSTOMER", values)])


def order_to_mamut(order: Order, customer_number: str, reference: str, codes: MamutLineCodes) -> str:
    """A GBAOX10 file with one order; the transfer id travels as its external order number."""
    values = {"ORDERID": order.id[:9], "CONTID": customer_number, "CONTNAME": _name(order.customer),
              "ADRINVO": _address(order.billing_address), "ADRDELIV": _address(order.shipping_address),
              "REF": order.reference or order.id, "YOURREF": order.customer.email, "TEXT": order.note,
              "DATA15": 1, "EXTERNALID": reference}  # fmt: skip
    node = _record("ORDER", values)
    lines = [_line(line, codes) for line in order.lines]
    etree.SubElement(node, "ORDERLINES").extend(lines + _rounding(order, codes))
    return _xml("GBAOX10", "ORDERLIST", [node])


def _rounding(order: Order, codes: MamutLineCodes) -> list[etree._Element]:
    """A 0 % line settling Mamut's per-line rounding to the total the buyer paid (within the tolerance)."""
    gap = order.total_gross.amount - sum((_mamut_gross(line) for line in order.lines), Decimal(0))
    if not gap:
        return []
    if abs(gap) > codes.rounding_tolerance:
        raise DataError(f"the order total differs from its lines by {gap}; not a rounding difference", system=SYSTEM)
    values = {"PRODID": codes.rounding_product, "DESCRIPTION": "Rounding", "QUANTITY": "1.00", "PRICE": gap,
              "DISCOUNT": 0, "VATCODE": vat_code(Decimal(0), codes), "STOREID": codes.warehouse}  # fmt: skip
    return [_record("ORDERLINE", values)]


def _mamut_gross(line: OrderLine) -> Decimal:
    """A line's total as Mamut computes it: net from the three-decimal price, VAT per line, half up."""
    net = (_price(line) * _quantity(line)).quantize(CENT, ROUND_HALF_UP)
    return net + (net * line.vat_rate).quantize(CENT, ROUND_HALF_UP)


def _line(line: OrderLine, codes: MamutLineCodes) -> etree._Element:
    by_kind = {OrderLineKind.SHIPPING: codes.shipping_product, OrderLineKind.FEE: codes.fee_product,
               OrderLineKind.DISCOUNT: codes.discount_product}  # fmt: skip
    product = line.sku if line.kind is OrderLineKind.PRODUCT else by_kind[line.kind]
    values = {"PRODID": product, "DESCRIPTION": line.name, "QUANTITY": _quantity(line),
              "PRICE": _price(line), "DISCOUNT": 0, "VATCODE": vat_code(line.vat_rate, codes),
              "STOREID": codes.warehouse}  # fmt: skip
    return _record("ORDERLINE", values)


def _quantity(line: OrderLine) -> Decimal:
    quantity = line.quantity.quantize(QUANTITY_PLACES, ROUND_HALF_UP)
    if quantity != line.quantity or not 0 < abs(quantity) <= MAX_AMOUNT:
        raise DataError(f"Mamut takes quantities with two decimals, not {line.quantity} ({line.name})", system=SYSTEM)
    return quantity


def _price(line: OrderLine) -> Decimal:
    """The unit price excl. VAT, three decimals (GBAO10 col 19), so that the line total stays exact."""
    unit = line.total_net.amount / line.quantity
    price = unit.quantize(PRICE_PLACES, ROUND_HALF_UP)
    if abs(price) > MAX_AMOUNT:
        raise DataError(f"the price {unit} of {line.name!r} is beyond what Mamut holds", system=SYSTEM)
    if (price * line.quantity).quantize(CENT, ROUND_HALF_UP) != line.total_net.amount.quantize(CENT, ROUND_HALF_UP):
        message = f"a three-decimal unit price cannot give the line total {line.total_net.amount} ({line.name})"
        raise DataError(message, system=SYSTEM)
    return price


def vat_code(rate: Decimal, codes: MamutLineCodes) -> int:
    for known, code in codes.vat_codes.items():
        if Decimal(known) == rate:
            return code
    raise DataError(f"no Mamut VAT code is set up for the rate {rate:%}", system=SYSTEM)


# ---- exports -----------------------------------------------------------------------------------


def _records(xml: str, path: str) -> list[etree._Element]:
    try:
        root = etree.fromstring(xml.encode(ENCODING), etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, UnicodeEncodeError) as exc:
        raise DataError(f"the Mamut export cannot be read: {exc}", system=SYSTEM) from exc
    return list(root.findall(path))


def _text(node: etree._Element, tag: str) -> str:
    return (node.findtext(tag) or "").strip()


def _decimal(node: etree._Element, tag: str) -> Decimal:
    try:
        return Decimal(_text(node, tag) or "0")
    except InvalidOperation:
        return Decimal(0)


def orders_from_mamut(xml: str) -> list[ExportedOrder]:
    """The EO export (GBAOX10): internal number, external number, status, customer, total."""
    return [ExportedOrder(_text(node, "ORDERID"), _text(node, "EXTERNALID"), _text(node, "STATUS"),
                          _text(node, "CONTID"), _decimal(node, "SUMORDERTOTAL"))
            for node in _records(xml, "ORDERLIST/ORDER")]  # fmt: skip


def customers_from_mamut(xml: str) -> list[ExportedCustomer]:
    """The EC export (GBACX10)."""
    return [ExportedCustomer(_text(node, "CONTID"), _text(node, "CONTNAME"), _text(node, "EMAIL"),
                             _text(node, "ORGNO"))
            for node in _records(xml, "CUSTOMERLIST/CUSTOMER")]  # fmt: skip


def product_numbers_from_mamut(xml: str) -> set[str]:
    """The product numbers of the EPR export (GBAPX10)."""
    return {_text(node, "PRODID") for node in _records(xml, "PRODUCTLIST/PRODUCT")}
