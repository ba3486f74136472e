"""Mamut's XML Import/Export formats (GBAOX10 orders, GBACX10 customers, GBAPX10 products) read and written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from shopbridge.sandbox.mamut.state import MAIN_WAREHOUSE, Contact, MamutOrder, MamutState, Product, vat_rate

ENCODING = "iso-8859-1"
DECLARATION = b'<?xml version="1.0" encoding="iso-8859-1"?>\n'
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.-]+)["']""")
CENT = Decimal("0.01")
LIST_TAGS = {"GBAOX10": ("ORDERLIST", "ORDER"), "GBACX10": ("CUSTOMERLIST", "CUSTOMER"),
             "GBAPX10": ("PRODUCTLIST", "PRODUCT")}  # fmt: skip


class ImportRejected(Exception):
    """A file Mamut refuses as a whole; the message is what its import log says."""


@dataclass
class ParsedLine:
    product: str
    description: str
    quantity: Decimal
    price: Decimal
    discount_percent: Decimal
    vat_code: int
    warehouse: int


@dataclass
class ParsedOrder:
    order_id: str
    customer: Contact  # number 0 when the file does not name one
    invoice_address: str
    delivery_address: str
    reference: str
    external_number: str
    lines: list[ParsedLine] = field(default_factory=list)


@dataclass
class ImportFile:
    format: str
    records: list[etree._Element]


# ---- reading -----------------------------------------------------------------------------------


def read_import(data: bytes) -> ImportFile:
    """Check the envelope the way Mamut does (declared ISO-8859-1, known root, upper-case tags)."""
    declared = _DECLARED_ENCODING.match(data)
    if declared is None or declared.group(1).decode().lower() not in ("iso-8859-1", "latin-1", "latin1"):
        raise ImportRejected('the file must start with <?xml version="1.0" encoding="iso-8859-1"?>')
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ImportRejected(f"the file is not well-formed XML: {exc}") from exc
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag != element.tag.upper():
            raise ImportRejected(f"tag names must be upper case, found <{element.tag}>")
    if root.tag not in LIST_TAGS:
        raise ImportRejected(f"unknown format {root.tag}; expected one of {', '.join(LIST_TAGS)}")
    list_tag, record_tag = LIST_TAGS[root.tag]
    return ImportFile(root.tag, root.findall(f"{list_tag}/{record_tag}"))


def text(element: etree._Element, tag: str, limit: int = 0) -> str:
    value = (element.findtext(tag) or "").strip()
    return value[:limit] if limit else value


def number(element: etree._Element, tag: str, default: str = "0", places: int = 4) -> Decimal:
    raw = text(element, tag) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImportRejected(f"<{tag}> must be a number with '.' as decimal separator, got {raw!r}") from None
    if not value.is_finite() or value.as_tuple().exponent < -places:  # type: ignore[operator]
        raise ImportRejected(f"<{tag}> allows at most {places} decimals, got {raw!r}")
    return value


def integer(element: etree._Element, tag: str, default: int = 0) -> int:
    raw = text(element, tag)
    if not raw:
        return default
    if not raw.isdigit():
        raise ImportRejected(f"<{tag}> must be a whole number, got {raw!r}")
    return int(raw)


def contact_from(element: etree._Element) -> Contact:
    """A GBACX10 CUSTOMER, or the customer part of a GBAOX10 ORDER."""
    name = text(element, "CONTNAME", 50)
    return Contact(
        number=integer(element, "CONTID"), name=name, street=text(element, "STREET", 150),
        zipcode=text(element, "ZIPCODE", 20), city=text(element, "CITY", 50), country=text(element, "DATA56", 2),
        email=text(element, "EMAIL", 100) or text(element, "CPERSMAIL", 100), phone=text(element, "PHONE1", 30),
        organisation_number=text(element, "ORGNO", 30), first_name=text(element, "CPERSFIRSTNAME", 50),
        last_name=text(element, "CPERSLASTNAME", 50),
    )  # fmt: skip


def order_from(element: etree._Element) -> ParsedOrder:
    order_id = text(element, "ORDERID")
    if not order_id:
        raise ImportRejected("<ORDERID> is required on every order")
    lines = [line_from(line) for line in element.findall("ORDERLINES/ORDERLINE")]
    if not lines:
        raise ImportRejected(f"order {order_id} has no <ORDERLINE>")
    return ParsedOrder(
        order_id=order_id[:9], customer=contact_from(element), invoice_address=text(element, "ADRINVO", 150),
        delivery_address=text(element, "ADRDELIV", 150), reference=text(element, "REF", 30),
        external_number=text(element, "EXTERNALID"), lines=lines,
    )  # fmt: skip


def line_from(element: etree._Element) -> ParsedLine:
    product, description = text(element, "PRODID", 50), text(element, "DESCRIPTION", 60)
    if not product and not description:
        raise ImportRejected("an order line needs <PRODID> or <DESCRIPTION>")
    return ParsedLine(
        product=product, description=description, quantity=number(element, "QUANTITY", "1", 2),
        price=number(element, "PRICE", "0", 3), discount_percent=number(element, "DISCOUNT", "0", 2),
        vat_code=integer(element, "VATCODE"), warehouse=integer(element, "STOREID", MAIN_WAREHOUSE),
    )  # fmt: skip


def product_from(element: etree._Element) -> Product:
    number_ = text(element, "PRODID", 50)
    description = text(element, "DESCRIPTION")
    if not number_ or not description:
        raise ImportRejected("<PRODID> and <DESCRIPTION> are required on every product")
    warehouse = integer(element, "DEFSTOREID", MAIN_WAREHOUSE)
    stock = {warehouse: number(element, "STORESTOCK", "0", 2)}
    return Product(number_, description, number(element, "PRICEOUT"), integer(element, "VATCODE", 3),
                   text(element, "UNIT"), text(element, "EANCODE"), True, warehouse, stock)  # fmt: skip


# ---- writing -----------------------------------------------------------------------------------


def document(root_tag: str, records: Iterable[etree._Element]) -> bytes:
    root = etree.Element(root_tag)
    holder = etree.SubElement(root, (LIST_TAGS | {"STOCKEXPORT": ("STOCKLIST", "STOCK")})[root_tag][0])
    holder.extend(records)
    body = etree.tostring(root, encoding=ENCODING, xml_declaration=False, pretty_print=True)
    return DECLARATION + (body if isinstance(body, bytes) else body.encode(ENCODING))


def element(tag: str, values: dict[str, object], children: Iterable[etree._Element] = ()) -> etree._Element:
    node = etree.Element(tag)
    for name, value in values.items():
        etree.SubElement(node, name).text = str(value)
    node.extend(children)
    return node


def order_totals(state: MamutState, order: MamutOrder) -> tuple[Decimal, Decimal]:
    """(net, VAT), each line rounded to the öre as Mamut prints it."""
    net = vat = Decimal(0)
    for line in order.lines:
        amount = (line.quantity * line.price * (1 - line.discount_percent / 100)).quantize(CENT, ROUND_HALF_UP)
        net += amount
        vat += (amount * vat_rate(state, line)).quantize(CENT, ROUND_HALF_UP)
    return net, vat


def render_order(state: MamutState, order: MamutOrder) -> etree._Element:
    net, vat = order_totals(state, order)
    lines = [element("ORDERLINE", {
        "PRODID": line.product, "DESCRIPTION": line.description, "QUANTITY": line.quantity, "PRICE": line.price,
        "DISCOUNT": line.discount_percent, "VATCODE": line.vat_code, "STOREID": line.warehouse,
    }) for line in order.lines]  # fmt: skip
    values = {"ORDERID": order.number, "EXTERNALID": order.external_number, "STATUS": order.status,
              "CONTID": order.customer, "CONTNAME": order.customer_name, "ADRINVO": order.invoice_address,
              "ADRDELIV": order.delivery_address, "REF": order.reference, "SUMORDER": net, "SUMORDERVAT": vat,
              "SUMORDERTOTAL": net + vat}  # fmt: skip
    return element("ORDER", values, [element("ORDERLINES", {}, lines)])


def render_contact(contact: Contact) -> etree._Element:
    return element("CUSTOMER", {
        "CONTID": contact.number, "CONTNAME": contact.name, "STREET": contact.street, "ZIPCODE": contact.zipcode,
        "CITY": contact.city, "DATA56": contact.country, "EMAIL": contact.email, "PHONE1": contact.phone,
        "ORGNO": contact.organisation_number, "CPERSFIRSTNAME": contact.first_name,
        "CPERSLASTNAME": contact.last_name,
    })  # fmt: skip


def render_product(product: Product) -> etree._Element:
    return element("PRODUCT", {
        "PRODID": product.number, "DESCRIPTION": product.description, "UNIT": product.unit,
        "PRICEOUT": product.price_out, "VATCODE": product.vat_code,
        "STORESTOCK": sum(product.stock.values(), Decimal(0)),
        "DEFSTOREID": product.default_warehouse, "EANCODE": product.ean,
    })  # fmt: skip


def render_stock(product: Product) -> list[etree._Element]:
    return [element("STOCK", {"PRODID": product.number, "STOREID": warehouse, "QUANTITY": quantity})
            for warehouse, quantity in sorted(product.stock.items())]  # fmt: skip


def exports(state: MamutState) -> dict[str, bytes]:
    """Every export file by name: EO orders, EC customers, EPR products, and stock per warehouse."""
    with state.lock:
        active = [product for product in state.products.values() if product.active]
        stock: Callable[[], Iterable[etree._Element]] = lambda: (s for p in active for s in render_stock(p))  # noqa: E731
        return {
            "orders.xml": document("GBAOX10", (render_order(state, order) for order in state.orders.values())),
            "customers.xml": document("GBACX10", (render_contact(contact) for contact in state.contacts.values())),
            "products.xml": document("GBAPX10", (render_product(product) for product in active)),
            "stock.xml": document("STOCKEXPORT", stock()),
        }
