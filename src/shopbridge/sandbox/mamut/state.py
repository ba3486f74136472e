"""The Mamut company database the emulator keeps: products, stock, contacts and orders."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal

MAIN_WAREHOUSE = 1
FREE_TEXT_PRODUCT = "DESCRIPTION"  # spec §2: unknown product numbers land on this product
UNPROCESSED = "UNPROCESSED"
# Status words are placeholders (spec §1: order status values are not documented).
ORDER_STATUSES = (UNPROCESSED, "ORDER", "DELIVERED", "INVOICED", "CANCELLED")
FIRST_ORDER_NUMBER = 10001
FIRST_CUSTOMER_NUMBER = 10000
# VAT code table (StdReg): code → rate. Ids are a choice; 0 on a line means "from the product".
VAT_CODES: dict[int, Decimal] = {1: Decimal("0"), 3: Decimal("0.25"), 5: Decimal("0.15"), 6: Decimal("0.12")}


@dataclass
class Product:
    number: str
    description: str
    price_out: Decimal
    vat_code: int = 3
    unit: str = "stk"
    ean: str = ""
    active: bool = True
    default_warehouse: int = MAIN_WAREHOUSE
    stock: dict[int, Decimal] = field(default_factory=dict)  # warehouse → quantity


@dataclass
class Contact:
    number: int
    name: str
    street: str = ""
    zipcode: str = ""
    city: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""
    organisation_number: str = ""
    first_name: str = ""
    last_name: str = ""
    ext_id: str = ""


@dataclass
class OrderLine:
    product: str
    description: str
    quantity: Decimal
    price: Decimal
    discount_percent: Decimal
    vat_code: int
    warehouse: int


@dataclass
class MamutOrder:
    number: int
    external_number: str
    customer: int
    customer_name: str
    invoice_address: str
    delivery_address: str
    reference: str
    lines: list[OrderLine]
    status: str = UNPROCESSED


@dataclass
class MamutState:
    """One company database; `lock` guards it while the watcher and tests touch it at once."""

    company: str = "001"
    products: dict[str, Product] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    orders: dict[int, MamutOrder] = field(default_factory=dict)
    next_order: int = FIRST_ORDER_NUMBER
    next_contact: int = FIRST_CUSTOMER_NUMBER
    lock: threading.RLock = field(default_factory=threading.RLock)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)

    def new_order_number(self) -> int:
        number, self.next_order = self.next_order, self.next_order + 1
        return number

    def new_contact_number(self) -> int:
        while self.next_contact in self.contacts:
            self.next_contact += 1
        return self.next_contact

    def orders_by_external(self, external: str) -> list[MamutOrder]:
        with self.lock:
            return [order for order in self.orders.values() if order.external_number == external]


def vat_rate(state: MamutState, line: OrderLine) -> Decimal:
    """Rate of a line's VAT code; code 0 takes the product's own code (spec §2 GBAO10 col 21)."""
    code = line.vat_code
    if code == 0:
        product = state.products.get(line.product)
        code = product.vat_code if product is not None else 1
    return VAT_CODES.get(code, Decimal("0"))


def set_status(state: MamutState, number: int, status: str) -> None:
    """What a Mamut user does by hand: approve, deliver, invoice or cancel an order."""
    if status not in ORDER_STATUSES:
        raise ValueError(f"unknown order status {status!r}")
    with state.lock:
        state.orders[number].status = status
