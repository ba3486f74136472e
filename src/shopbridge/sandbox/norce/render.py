"""Norce payloads: Query 2.0 orders (PascalCase, spec §2b) and the pushed OrderRequest (spec §2a)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shopbridge.sandbox.norce.state import Channel, NorceState, Order, OrderItem, Person

Json = dict[str, Any]
ORDER_FIELDS = (
    "Id", "ApplicationId", "OrderNo", "OrderDate", "Created", "Updated", "StatusId", "CurrencyId",
    "FreightCost", "OrderFee", "CashDiscount", "LineDiscount", "PaymentMethodId", "DeliveryCountryId",
    "DeliveryZipCode", "IsForgotten", "Source", "DeliveryMode", "PaymentTerms", "TypeId", "ErpOrderNo",
    "DeliveryFirstName", "DeliveryLastName", "DeliveryCompanyName", "DeliveryAddress1", "DeliveryCity",
)  # fmt: skip
FILTER_FIELDS = ("Id", "ApplicationId", "OrderNo", "StatusId", "Created", "Updated", "OrderDate", "IsForgotten",
                 "Source", "CurrencyId")  # fmt: skip
NAVIGATIONS = ("Items", "Buyer")


def odata_time(when: datetime | None) -> str | None:
    """Edm.DateTimeOffset in UTC, to the second."""
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def number(value: Decimal) -> float | int:
    """JSON numbers as Norce prints them (159.2, 2.0); the connector reads them back as Decimal."""
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


def filter_view(order: Order, state: NorceState) -> Json:
    """The order's filterable properties with typed values, for `$filter` and `$orderby`."""
    return {
        "Id": order.id, "ApplicationId": order.application_id, "OrderNo": order.order_no,
        "StatusId": order.status, "Created": order.created, "Updated": order.updated, "OrderDate": order.created,
        "IsForgotten": order.is_forgotten, "Source": "WEB", "CurrencyId": state.currency_id(order.currency),
    }  # fmt: skip


Expand = dict[str, list[str] | None]


def render_order(order: Order, state: NorceState, expand: Expand, select: list[str] | None) -> Json:
    row = _order_fields(order, state)
    if select:
        row = {name: row[name] for name in select if name in row}
    if "Items" in expand:
        row["Items"] = [_select(render_item(order, item), expand["Items"]) for item in order.items]
    if "Buyer" in expand:
        row["Buyer"] = _select(render_buyer(order.buyer, state), expand["Buyer"])
    row.update(order.extra)
    return row


def _select(row: Json, names: list[str] | None) -> Json:
    return row if names is None else {name: row[name] for name in names if name in row}


def _order_fields(order: Order, state: NorceState) -> Json:
    delivery = order.delivery
    line_discount = sum((item.discount for item in order.items), Decimal("0"))
    return {
        "Id": order.id, "ApplicationId": order.application_id, "OrderNo": order.order_no,
        "OrderDate": odata_time(order.created), "Created": odata_time(order.created),
        "Updated": odata_time(order.updated), "StatusId": order.status,
        "CurrencyId": state.currency_id(order.currency), "FreightCost": number(order.freight),
        "OrderFee": number(order.order_fee), "CashDiscount": 0, "LineDiscount": number(line_discount),
        "PaymentMethodId": 7, "DeliveryCountryId": state.country_id(delivery.country),
        "DeliveryZipCode": delivery.zip_code, "IsForgotten": order.is_forgotten, "Source": "WEB",
        "DeliveryMode": "POSTNORD", "PaymentTerms": None, "TypeId": 1, "ErpOrderNo": order.erp_order_no or None,
        "DeliveryFirstName": delivery.first_name, "DeliveryLastName": delivery.last_name,
        "DeliveryCompanyName": delivery.company, "DeliveryAddress1": delivery.line1, "DeliveryCity": delivery.city,
    }  # fmt: skip


def render_item(order: Order, item: OrderItem) -> Json:
    return {
        "Id": order.id * 100 + item.line_no, "OrderId": order.id, "LineNumber": item.line_no,
        "PartNo": item.part_no, "ProductName": item.name, "QtyOrdered": float(item.quantity),
        "PriceSale": number(item.price_sale), "DiscountAmount": number(item.discount),
        "LineAmount": number(item.line_amount), "VatRate": float(item.vat_rate), "StatusId": order.status,
    }  # fmt: skip


def render_buyer(person: Person, state: NorceState) -> Json:
    return {
        "FirstName": person.first_name, "LastName": person.last_name, "CompanyName": person.company,
        "EmailAddress": person.email, "Phone": person.phone, "Address1": person.line1,
        "ZipCode": person.zip_code, "City": person.city, "CountryId": state.country_id(person.country),
    }  # fmt: skip


def render_lookup(values: dict[int, str]) -> list[Json]:
    return [{"Id": key, "Code": code} for key, code in sorted(values.items())]


# --- push (spec §2a) ---


def order_request(order: Order, channel: Channel) -> Json:
    """The OrderRequest Norce POSTs to the order receiver when checkout completes."""
    items = [
        {"LineNo": item.line_no, "PartNo": item.part_no, "Description": item.name, "Quantity": int(item.quantity),
         "UnitPrice": number(item.price_sale), "UnitVat": number(item.price_sale * item.vat_rate / 100),
         "VatRate": float(item.vat_rate), "Discount": number(item.discount)}
        for item in order.items
    ]  # fmt: skip
    fee = {"Type": 0, "Description": "Frakt", "Amount": number(order.freight), "VatRate": 25.0}
    fees = [fee] if order.freight else []
    return {
        "Header": {"ApplicationKey": channel.key}, "ClientOrderRef": order.order_no,
        "SubmitDate": order.created.strftime("%Y-%m-%dT%H:%M:%S"), "CurrencyCode": order.currency,
        "Source": "WEB", "OrderType": 1, "SellTo": {"Person": _push_person(order.buyer)},
        "ShipTo": {"Person": _push_person(order.delivery)}, "Items": items, "Fees": fees,
        "Payments": [{"PaymentCode": 7, "PaymentMethodCode": order.payment_method, "PaymentRef": order.payment_ref,
                      "CurrencyCode": order.currency}],
    }  # fmt: skip


def _push_person(person: Person) -> Json:
    address = {"Line1": person.line1, "ZipCode": person.zip_code, "City": person.city, "Country": person.country}
    return {"FirstName": person.first_name, "LastName": person.last_name, "Email": person.email, "Address": address}
