"""Validation and arithmetic of Hogia contacts and customer invoices (spec §2), for the emulator."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shopbridge.sandbox.hogia.render import ApiProblem
from shopbridge.sandbox.hogia.state import HogiaState, Json

CENT = Decimal("0.01")
MAX_QUANTITY = Decimal("1000000")
MAX_AMOUNT = Decimal("1000000000")
TEXT_LIMITS = {"companyName": 100, "givenName": 50, "surName": 50, "identificationNumber": 20, "vatNumber": 20,
               "customerOrderNumber": 50, "externalReference": 100, "yourReference": 50, "ourReference": 50,
               "comment": 1000, "description": 250, "itemNumber": 25, "street": 100, "streetExtraLine": 100,
               "zipCode": 10, "city": 50, "country": 50, "value": 100}  # fmt: skip
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DEFAULT_DUE_DAYS = 30
ACCOUNTS_RECEIVABLE = "1510"


class Errors:
    """Validation errors by field path, raised together as one ProblemDetails 400."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_field.setdefault(path, []).append(message)

    def text(self, obj: Json, path: str, name: str, required: bool = False) -> str:
        value = obj.get(name)
        if value is None or value == "":
            if required:
                self.add(f"{path}{name}", f"The {name} field is required.")
            return ""
        if not isinstance(value, str):
            self.add(f"{path}{name}", f"The {name} field must be a string.")
            return ""
        limit = TEXT_LIMITS.get(name, 250)
        if len(value) > limit:
            self.add(f"{path}{name}", f"The field {name} must be a string with a maximum length of {limit}.")
        return value

    def number(self, obj: Json, path: str, name: str, limit: Decimal) -> Decimal | None:
        value = obj.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or not abs(Decimal(value)) < limit:
            self.add(f"{path}{name}", f"The value of {name} is not valid.")
            return None
        return Decimal(value)

    def raise_any(self) -> None:
        if self.by_field:
            raise ApiProblem(400, errors=self.by_field)


def round_ore(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def check_sequence_id(state: HogiaState, body: Json, errors: Errors) -> str:
    """A client-chosen GUID; one seen before is a conflict (the emulator's reading of spec §2)."""
    sequence_id = body.get("sequenceId")
    if not isinstance(sequence_id, str) or not _GUID.fullmatch(sequence_id):
        errors.add("sequenceId", "The sequenceId field is required and must be a GUID.")
        return ""
    if sequence_id.lower() in state.sequence_ids:
        raise ApiProblem(409, f"sequenceId {sequence_id} has already been used.")
    return sequence_id.lower()


# --- contacts ----------------------------------------------------------------------------------


def new_contact(state: HogiaState, body: Json) -> Json:
    errors = Errors()
    sequence_id = check_sequence_id(state, body, errors)
    contact = _contact_fields(body, errors)
    number = errors.text(body, "", "number") or state.take_contact_number()
    if state.contact_by_number(number) is not None:
        errors.add("number", f"A contact with number {number} already exists.")
    errors.raise_any()
    contact_id = state.new_id()
    state.sequence_ids[sequence_id] = contact_id
    now = state.timestamp()
    meta = {"id": contact_id, "organizationId": state.organization_id, "sequenceId": sequence_id, "version": 1,
            "createdDate": now, "updatedDate": now, "number": number}  # fmt: skip
    state.contacts[contact_id] = meta | contact
    return state.contacts[contact_id]


def _contact_fields(body: Json, errors: Errors) -> Json:
    organisation = body.get("isOrganization") is True
    fields = {name: errors.text(body, "", name) for name in
              ("companyName", "givenName", "surName", "identificationNumber", "vatNumber")}  # fmt: skip
    if organisation and not fields["companyName"]:
        errors.add("companyName", "An organization needs a companyName.")
    if not organisation and not (fields["givenName"] or fields["surName"]):
        errors.add("givenName", "A person needs a givenName or a surName.")
    country = errors.text(body, "", "countryCode")
    if country and not (len(country) == 2 and country.isalpha()):
        errors.add("countryCode", "The countryCode must be two letters.")
    return fields | {
        "isOrganization": organisation,
        "countryCode": country.upper(),
        "contactTypes": [1],  # the emulator only knows customers
        "addresses": [_address(item, f"addresses[{i}].", errors) for i, item in enumerate(_list(body, "addresses"))],
        "contactChannels": [_channel(item, f"contactChannels[{i}].", errors)
                            for i, item in enumerate(_list(body, "contactChannels"))],  # fmt: skip
        "customer": {"isActive": True, "paymentTerms": DEFAULT_DUE_DAYS} | _dict(body.get("customer")),
    }


def _list(body: Json, name: str) -> list[Json]:
    value = body.get(name) or []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _address(item: Json, path: str, errors: Errors) -> Json:
    return {name: errors.text(item, path, name) for name in ("street", "streetExtraLine", "zipCode", "city", "country")}


def _channel(item: Json, path: str, errors: Errors) -> Json:
    kind = item.get("type")
    if kind not in ("Email", "Phone", "Mobile", "Web"):
        errors.add(f"{path}type", "The type must be Email, Phone, Mobile or Web.")
    return {"type": kind, "value": errors.text(item, path, "value", required=True)}


# --- customer invoices -------------------------------------------------------------------------


def new_invoice(state: HogiaState, body: Json) -> Json:
    """A draft customer invoice from a v2 create body (spec §2), with its amounts worked out."""
    errors = Errors()
    sequence_id = check_sequence_id(state, body, errors)
    header = _invoice_header(state, _dict(body.get("customerInvoice")), errors)
    raw_lines = body.get("invoiceLines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.add("invoiceLines", "An invoice needs at least one line.")
        raw_lines = []
    lines = [_invoice_line(state, _dict(_dict(item).get("invoiceLine")), f"invoiceLines[{i}].invoiceLine.", errors)
             for i, item in enumerate(raw_lines)]  # fmt: skip
    errors.raise_any()
    invoice_id = state.new_id()
    state.sequence_ids[sequence_id] = invoice_id
    state.invoices[invoice_id] = _invoice(state, invoice_id, sequence_id, header, lines)
    return state.invoices[invoice_id]


def _invoice(state: HogiaState, invoice_id: str, sequence_id: str, header: Json, lines: list[Json]) -> Json:
    totals = {name: sum((line.get(name, Decimal(0)) for line in lines), Decimal("0.00"))
              for name in ("netAmount", "vatAmount", "grossAmount")}  # fmt: skip
    now = state.timestamp()
    return {
        "id": invoice_id, "organizationId": state.organization_id, "sequenceId": sequence_id, "version": 1,
        "createdDate": now, "updatedDate": now, "customerInvoiceState": "Draft", "invoiceNumber": None,
        "invoiceHeader": header | totals, "invoiceLines": lines, "amountPaid": Decimal("0.00"),
        "amountLeftToPay": totals["grossAmount"], "isBilled": False, "isClosed": False, "isCanceled": False,
        "isExpired": False, "reminderCount": 0, "payments": [],
    }  # fmt: skip


def _invoice_header(state: HogiaState, raw: Json, errors: Errors) -> Json:
    number = errors.text(raw, "customerInvoice.", "customerNumber", required=True)
    contact = state.contact_by_number(number) if number else None
    if number and contact is None:
        errors.add("customerInvoice.customerNumber", f"No customer with number {number}.")
    invoice_date = _date(raw, "invoiceDate", errors) or state.clock().date()
    due = _date(raw, "invoiceExpirationDate", errors) or invoice_date + timedelta(days=DEFAULT_DUE_DAYS)
    currency = _dict(raw.get("currency")).get("code", "SEK")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        errors.add("customerInvoice.currency.code", "The currency code must be three letters.")
    texts = {name: errors.text(raw, "customerInvoice.", name) for name in
             ("customerOrderNumber", "externalReference", "yourReference", "ourReference", "comment")}  # fmt: skip
    name = (contact or {}).get("companyName") or " ".join(
        part for part in ((contact or {}).get("givenName"), (contact or {}).get("surName")) if part)
    return {"customerNumber": number, "customerName": name, "invoiceDate": invoice_date.isoformat(),
            "invoiceExpirationDate": due.isoformat(), "currency": {"code": str(currency).upper()}} | texts  # fmt: skip


def _date(raw: Json, name: str, errors: Errors) -> date | None:
    value = raw.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        errors.add(f"customerInvoice.{name}", f"The {name} must be a date as YYYY-MM-DD.")
        return None


def _invoice_line(state: HogiaState, raw: Json, path: str, errors: Errors) -> Json:
    """An article line with its amounts, or a free-text line (no article, no amounts)."""
    description = errors.text(raw, path, "description")
    item_number = errors.text(raw, path, "itemNumber")
    if not item_number:
        if not description:
            errors.add(f"{path}description", "A line needs an itemNumber or a description.")
        return {"description": description, "articleType": "Text"}
    article = state.articles.get(item_number)
    if article is None:
        errors.add(f"{path}itemNumber", f"No article with number {item_number}.")
        return {}
    quantity = errors.number(raw, path, "quantity", MAX_QUANTITY)
    if quantity is None or quantity == 0:
        errors.add(f"{path}quantity", "The quantity must be a number other than 0.")
        quantity = Decimal(1)
    unit_price = errors.number(raw, path, "unitPrice", MAX_AMOUNT)
    vat = _vat_code(state, raw.get("vatCode", article["vatCode"]), path, errors)
    return _priced_line(item_number, description or article["name"], quantity,
                        article["unitPrice"] if unit_price is None else unit_price, vat, article)  # fmt: skip


def _vat_code(state: HogiaState, code: Any, path: str, errors: Errors) -> Json:
    if not isinstance(code, str) or code not in state.vat_codes:
        errors.add(f"{path}vatCode", f"Unknown VAT code {code!r}.")
        return {"code": "", "rate": Decimal(0)}
    return state.vat_codes[code]


def _priced_line(
    number: str, description: str, quantity: Decimal, unit_price: Decimal, vat: Json, article: Json
) -> Json:
    """Net rounded to the öre per line, VAT per line on the rounded net (choice, see app docstring)."""
    net = round_ore(quantity * unit_price)
    vat_amount = round_ore(net * vat["rate"] / 100)
    return {"itemNumber": number, "description": description, "quantity": quantity, "unitPrice": unit_price,
            "netAmount": net, "vatAmount": vat_amount, "grossAmount": net + vat_amount,
            "vat": {"code": vat["code"], "rate": vat["rate"]}, "salesAccountNumber": article["salesAccountNumber"],
            "articleType": "Article"}  # fmt: skip


def book(state: HogiaState, invoice: Json) -> Json:
    """Give a draft its invoice number; a booked invoice is left as it is."""
    if invoice["customerInvoiceState"] == "Draft":
        invoice.update(customerInvoiceState="Booked", invoiceNumber=state.take_invoice_number(), isBilled=True,
                       updatedDate=state.timestamp(), version=invoice["version"] + 1)  # fmt: skip
    return invoice


def pay(state: HogiaState, invoice: Json, body: Json) -> Json:
    """Register a customer payment on a booked invoice (spec §2, payments)."""
    errors = Errors()
    if invoice["customerInvoiceState"] != "Booked":
        raise ApiProblem(400, "Payments can only be registered on booked invoices.")
    amount = errors.number(body, "", "amount", MAX_AMOUNT)
    if amount is None or amount <= 0 or round_ore(amount) != amount:
        errors.add("amount", "The amount must be positive with at most two decimals.")
    if body.get("payer", "Customer") != "Customer":
        errors.add("payer", "Only Customer payments are supported.")
    paid_on = _date({"date": body.get("date")}, "date", errors) or state.clock().date()
    errors.raise_any()
    assert amount is not None
    if amount > invoice["amountLeftToPay"]:
        raise ApiProblem(400, f"The amount exceeds what is left to pay ({invoice['amountLeftToPay']}).")
    payment = {"id": state.new_id(), "payer": "Customer", "date": paid_on.isoformat(), "amount": amount,
               "accountNumber": str(body.get("accountNumber") or ACCOUNTS_RECEIVABLE)}  # fmt: skip
    invoice["payments"].append(payment)
    invoice["amountPaid"] += amount
    invoice["amountLeftToPay"] -= amount
    invoice["isClosed"] = invoice["amountLeftToPay"] == 0
    return payment
