"""State of the emulated PrestaShop shop: tables of rows, computed fields, stock sums and order state changes."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shopbridge.sandbox.faults import FaultPlan
from shopbridge.sandbox.limits import TokenBucket
from shopbridge.sandbox.prestashop.schema import RESOURCES, ResourceSpec

Row = dict[str, Any]
DEMO_API_KEY = "SHOPBRIDGE0DEMO0PRESTASHOP0KEY01"
# Rows looked up by their parent's id on every read of an order or a product. Scanning every order
# line for each order read made the emulator, not the engine, the bottleneck of a long run; these
# are indexed. Rows of these tables are stored through `put` (or `insert`) to stay findable.
INDEXED_FIELDS = {
    "order_details": "id_order",
    "order_histories": "id_order",
    "order_carriers": "id_order",
    "order_cart_rules": "id_order",
    "order_payments": "order_reference",
    "combinations": "id_product",
    "stock_availables": "id_product",
    "addresses": "id_customer",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def amount(value: Decimal, places: int = 6) -> str:
    """A decimal as the shop's database prints it (`79.200000`), rounded half up."""
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class SentMail:
    template: str
    recipient: str
    order_id: int
    sent_at: str


@dataclass
class PrestaShopState:
    """Everything the emulated shop knows; `tables` maps a resource name to {id: row}."""

    api_key: str
    version: str = "8.1.5"
    timezone: str = "Europe/Copenhagen"
    faults: FaultPlan = field(default_factory=FaultPlan)
    clock: Callable[[], datetime] = utc_now
    shop_name: str = "ShopBridge Demo"
    webservice_enabled: bool = True
    tables: dict[str, dict[int, Row]] = field(default_factory=lambda: {name: {} for name in RESOURCES})
    last_ids: dict[str, int] = field(default_factory=dict)
    sent_mails: list[SentMail] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    rate_limit: TokenBucket | None = None
    round_trip_seconds: float = 0.0
    # resource -> value of its INDEXED_FIELDS field -> ids; built on first use, kept by `put`.
    _indexes: dict[str, dict[Any, set[int]]] = field(default_factory=dict, repr=False, compare=False)

    def table(self, resource: str) -> dict[int, Row]:
        return self.tables.setdefault(resource, {})

    def now(self) -> str:
        """The clock's instant as the shop prints dates: local time in the shop's zone."""
        return self.clock().astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def languages(self) -> tuple[int, ...]:
        return tuple(sorted(self.table("languages"))) or (1,)

    @property
    def supports_patch(self) -> bool:
        return int(self.version.split(".")[0]) >= 8

    def next_id(self, resource: str) -> int:
        """Auto-increment: ids of deleted rows are never handed out again."""
        table = self.table(resource)
        last = self.last_ids.get(resource)
        if last is None:
            last = max(table, default=0)
        while last + 1 in table:  # a row stored under an id of its own choosing
            last += 1
        self.last_ids[resource] = last + 1
        return last + 1

    def insert(self, resource: str, values: Row, entity_id: int | None = None) -> int:
        """Add a row with every field of the resource, blanks where `values` is silent."""
        new_id = entity_id if entity_id is not None else self.next_id(resource)
        row = blank_row(RESOURCES[resource], self.languages)
        for name, value in values.items():
            row[name] = self.i18n(value) if _is_i18n(resource, name) and isinstance(value, str) else value
        row["id"] = new_id
        self.put(resource, row)
        return new_id

    def put(self, resource: str, row: Row) -> None:
        """Store a row under its id (a new one or a replacement), keeping its table's index in step."""
        entity_id = int(row["id"])
        self.table(resource)[entity_id] = row
        indexed = INDEXED_FIELDS.get(resource)
        if indexed is not None and resource in self._indexes:
            self._indexes[resource].setdefault(row.get(indexed), set()).add(entity_id)

    def i18n(self, text: str) -> dict[int, str]:
        return {lang: text for lang in self.languages}

    def find(self, resource: str, **where: str) -> list[Row]:
        """Rows whose named fields equal the given strings, in id order."""
        table = self.table(resource)
        indexed = INDEXED_FIELDS.get(resource)
        candidates: Iterable[Row] = table.values()
        if indexed in where:
            # The index may hold ids of rows since deleted or changed: every condition is checked.
            ids = self._index(resource, indexed).get(where[indexed], set())
            candidates = [table[entity_id] for entity_id in ids if entity_id in table]
        wanted = where.items()
        matched = [row for row in candidates if all(row.get(key) == value for key, value in wanted)]
        return sorted(matched, key=lambda row: int(row["id"]))

    def rows_with(self, resource: str, name: str, values: list[str]) -> list[Row] | None:
        """The rows whose id or indexed field is one of `values`, in id order; None when `name` is
        neither, and the rows must be scanned."""
        table = self.table(resource)
        if name == "id":
            ids = {int(value) for value in values}
        elif INDEXED_FIELDS.get(resource) == name:
            index = self._index(resource, name)
            ids = set().union(*(index.get(value, set()) for value in values))
        else:
            return None
        return [table[entity_id] for entity_id in sorted(ids) if entity_id in table]

    def _index(self, resource: str, indexed: str) -> dict[Any, set[int]]:
        index = self._indexes.get(resource)
        if index is None:
            index = self._indexes[resource] = {}
            for entity_id, row in self.table(resource).items():
                index.setdefault(row.get(indexed), set()).add(entity_id)
        return index


def _is_i18n(resource: str, name: str) -> bool:
    spec = RESOURCES[resource].field(name)
    return spec is not None and spec.i18n


def blank_row(spec: ResourceSpec, languages: tuple[int, ...]) -> Row:
    row: Row = {"id": 0, "associations": {}}
    for item in spec.fields:
        row[item.name] = {lang: "" for lang in languages} if item.i18n else item.blank()
    return row


def text_of(row: Row, name: str) -> str:
    """A field's value in the first language when it is i18n, else as stored."""
    value = row.get(name)
    if isinstance(value, dict):
        return str(next(iter(value.values()), ""))
    return "" if value is None else str(value)


# -- stock -----------------------------------------------------------------------------------------

def stock_row(state: PrestaShopState, product_id: int, attribute_id: int) -> Row | None:
    rows = state.find("stock_availables", id_product=str(product_id), id_product_attribute=str(attribute_id))
    return rows[0] if rows else None


def add_stock_row(state: PrestaShopState, product_id: int, attribute_id: int, quantity: int) -> int:
    return state.insert("stock_availables", {
        "id_product": str(product_id), "id_product_attribute": str(attribute_id), "id_shop": "1",
        "id_shop_group": "0", "quantity": str(quantity), "depends_on_stock": "0", "out_of_stock": "2",
    })


def resync_product_stock(state: PrestaShopState, product_id: int) -> None:
    """The product-level row (attribute 0) holds the sum of its combinations' rows, as the core keeps it."""
    rows = [row for row in state.find("stock_availables", id_product=str(product_id))
            if row["id_product_attribute"] != "0"]
    parent = stock_row(state, product_id, 0)
    if rows and parent is not None:
        parent["quantity"] = str(sum(int(row["quantity"]) for row in rows))


def adjust_stock(state: PrestaShopState, product_id: int, attribute_id: int, delta: int) -> None:
    row = stock_row(state, product_id, attribute_id)
    if row is not None:
        row["quantity"] = str(int(row["quantity"]) + delta)
        resync_product_stock(state, product_id)


# -- computed fields and associations (getters of the real API) -------------------------------------

def entity_view(state: PrestaShopState, resource: str, row: Row) -> Row:
    """A copy of the row with its computed fields and live associations filled in."""
    view = dict(row)
    view["associations"] = dict(row.get("associations", {}))
    computed = _COMPUTED.get(resource)
    if computed is not None:
        computed(state, view)
    return view


def _product_view(state: PrestaShopState, view: Row) -> None:
    product_id = str(view["id"])
    combinations = state.find("combinations", id_product=product_id)
    parent = stock_row(state, int(product_id), 0)
    view["quantity"] = parent["quantity"] if parent else "0"
    default = [row for row in combinations if row["default_on"] == "1"]
    view["id_default_combination"] = str(default[0]["id"]) if default else "0"
    value_ids = dict.fromkeys(item["id"] for row in combinations
                              for item in row["associations"].get("product_option_values", []))
    view["associations"]["combinations"] = [{"id": str(row["id"])} for row in combinations]
    view["associations"]["product_option_values"] = [{"id": value_id} for value_id in value_ids]
    view["associations"]["stock_availables"] = [
        {"id": str(row["id"]), "id_product_attribute": row["id_product_attribute"]}
        for row in state.find("stock_availables", id_product=product_id)
    ]


def _combination_view(state: PrestaShopState, view: Row) -> None:
    row = stock_row(state, int(view["id_product"]), int(view["id"]))
    view["quantity"] = row["quantity"] if row else "0"


def _product_option_view(state: PrestaShopState, view: Row) -> None:
    values = state.find("product_option_values", id_attribute_group=str(view["id"]))
    view["associations"]["product_option_values"] = [{"id": str(row["id"])} for row in values]


def _order_view(state: PrestaShopState, view: Row) -> None:
    carriers = state.find("order_carriers", id_order=str(view["id"]))
    view["shipping_number"] = carriers[0]["tracking_number"] if carriers else ""
    view["associations"]["order_rows"] = [order_row(detail) for detail in
                                          state.find("order_details", id_order=str(view["id"]))]


def order_row(detail: Row) -> dict[str, str]:
    """The `order_rows` association item an order shows for one of its order_details."""
    names = ("product_id", "product_attribute_id", "product_quantity", "product_name", "product_reference",
             "product_ean13", "product_isbn", "product_upc", "product_price", "id_customization",
             "unit_price_tax_incl", "unit_price_tax_excl")
    return {"id": str(detail["id"]), **{name: str(detail.get(name) or "") for name in names}}


_COMPUTED: dict[str, Callable[[PrestaShopState, Row], None]] = {
    "products": _product_view,
    "combinations": _combination_view,
    "product_options": _product_option_view,
    "orders": _order_view,
}


# -- order state changes (spec §8.1) ----------------------------------------------------------------

def set_order_state(state: PrestaShopState, order_id: int, state_id: int) -> None:
    """Move an order to another state, as `POST order_histories` does."""
    change_order_state(state, order_id, state_id)


def change_order_state(state: PrestaShopState, order_id: int, state_id: int, employee_id: int = 0) -> int:
    """Update current_state, date_upd and the flags the new state implies; returns the history row id."""
    order = state.table("orders").get(order_id)
    target = state.table("order_states").get(state_id)
    if order is None or target is None:
        raise KeyError(f"unknown order {order_id} or order state {state_id}")
    now = state.now()
    order.update(current_state=str(state_id), date_upd=now, valid=target["logable"])
    if target["paid"] == "1":
        _record_payment(state, order, now)
    if target["invoice"] == "1" and order["invoice_number"] == "0":
        order.update(invoice_number=str(_next_number(state, "invoice_number")), invoice_date=now)
    if target["delivery"] == "1" and order["delivery_number"] == "0":
        order.update(delivery_number=str(_next_number(state, "delivery_number")), delivery_date=now)
    return state.insert("order_histories", {
        "id_employee": str(employee_id), "id_order_state": str(state_id), "id_order": str(order_id), "date_add": now,
    })


def _next_number(state: PrestaShopState, name: str) -> int:
    """The next invoice or delivery number: the orders' highest, counted on from the first use."""
    counter = f"orders.{name}"
    last = state.last_ids.get(counter)
    if last is None:
        last = max((int(row[name]) for row in state.table("orders").values()), default=0)
    state.last_ids[counter] = last + 1
    return last + 1


def _record_payment(state: PrestaShopState, order: Row, now: str) -> None:
    """A paid state records the payment once; total_paid_real then equals what was paid."""
    if state.find("order_payments", order_reference=order["reference"]):
        return
    state.insert("order_payments", {
        "order_reference": order["reference"], "id_currency": order["id_currency"], "amount": order["total_paid"],
        "payment_method": order["payment"], "conversion_rate": order["conversion_rate"], "date_add": now,
    })
    order["total_paid_real"] = order["total_paid"]


def send_order_mail(state: PrestaShopState, order_id: int, template: str) -> None:
    """Record the customer mail a real shop would send (`sendemail=1`)."""
    order = state.table("orders")[order_id]
    customer = state.table("customers").get(int(order["id_customer"]))
    recipient = customer["email"] if customer else ""
    state.sent_mails.append(SentMail(template, recipient, order_id, state.now()))


def state_template(state: PrestaShopState, state_id: int) -> str:
    row = state.table("order_states").get(state_id)
    return text_of(row, "template") if row else ""
