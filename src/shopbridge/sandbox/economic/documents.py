"""e-conomic write validation, document totals and booking (§6)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shopbridge.sandbox.economic.errors import (
    DOES_NOT_EXIST,
    NO_IDENTIFIER,
    QUANTITY_REQUIRED,
    TOO_MANY_DECIMALS,
    AnnotatedErrors,
    ErrorPath,
)
from shopbridge.sandbox.economic.query import MISSING, REFERENCE_KEYS, Json, decode_id

Tables = Mapping[str, Mapping[Any, Json]]

DOMESTIC_VAT_ZONE = 1
STANDARD_VAT_RATE = Decimal("0.25")
# Emulator simplification (§10): the VAT rate follows the product group, 1 and 3 carry VAT.
VAT_RATE_BY_PRODUCT_GROUP = {1: STANDARD_VAT_RATE, 2: Decimal("0"), 3: STANDARD_VAT_RATE, 4: Decimal("0")}
# Price in DKK of 100 units of the currency; the emulator's fixed "daily rate".
EXCHANGE_RATES = {"DKK": Decimal("100"), "EUR": Decimal("746.00"), "SEK": Decimal("68.50"),
                  "NOK": Decimal("63.80"), "USD": Decimal("690.00")}  # fmt: skip
CENT = Decimal("0.01")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- field checks (shared by customers, products and documents) --------------------------------


def check_text(errors: AnnotatedErrors, obj: Json, path: ErrorPath, name: str, max_length: int, *,
               required: bool = False) -> None:  # fmt: skip
    value = obj.get(name, MISSING)
    if value is MISSING:
        if required:
            errors.add((*path, name), f"{name} is required.")
    elif not isinstance(value, str):
        errors.add((*path, name), f"{name} must be a string.", value=value)
    elif len(value) > max_length or (required and not value):
        errors.add((*path, name), f"{name} must be 1 to {max_length} characters long.", value=value)


def check_number(errors: AnnotatedErrors, obj: Json, path: ErrorPath, name: str, *, max_decimals: int | None = None,
                 minimum: Decimal | None = None) -> None:  # fmt: skip
    value = obj.get(name, MISSING)
    if value is MISSING:
        return
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        errors.add((*path, name), f"{name} must be a number.", value=value)
    elif max_decimals is not None and _decimals(Decimal(value)) > max_decimals:
        errors.add((*path, name), f"{name} allows at most {max_decimals} decimals (scale).", TOO_MANY_DECIMALS, value)
    elif minimum is not None and value < minimum:
        errors.add((*path, name), f"{name} must be at least {minimum}.", value=value)


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_date(errors: AnnotatedErrors, obj: Json, path: ErrorPath, name: str, *, required: bool = False) -> None:
    value = obj.get(name, MISSING)
    if value is MISSING:
        if required:
            errors.add((*path, name), f"{name} is required.")
    elif not isinstance(value, str) or not _FULL_DATE.fullmatch(value) or not _valid_date(value):
        errors.add((*path, name), f"{name} must be a date as YYYY-MM-DD.", value=value)


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def check_reference(errors: AnnotatedErrors, obj: Json, path: ErrorPath, name: str, tables: Tables, *,
                    required: bool = False) -> None:  # fmt: skip
    """A reference by number or by `self`; normalised in place to carry the number."""
    key, table = REFERENCE_KEYS[name]
    ref = obj.get(name, MISSING)
    if ref is MISSING:
        if required:
            errors.add((*path, name), f"{name} is required.")
        return
    number = _reference_number(ref, key, numeric=table != "products")
    if number is MISSING:
        errors.add((*path, name), f"No identifiers present on {name}.", NO_IDENTIFIER)
    elif number not in tables[table]:
        errors.add((*path, name), f"{name} does not exist.", DOES_NOT_EXIST, number)
    else:
        obj[name] = {**{k: v for k, v in ref.items() if k != "self"}, key: number}


def _reference_number(ref: Any, key: str, *, numeric: bool) -> Any:
    if not isinstance(ref, dict):
        return MISSING
    if key in ref:
        value = ref[key]
        return value if isinstance(value, (int, str)) and not isinstance(value, bool) else MISSING
    link = ref.get("self")
    if not isinstance(link, str) or "/" not in link:
        return MISSING
    segment = decode_id(link.rstrip("/").rsplit("/", 1)[1])
    return int(segment) if numeric and segment.isdigit() else segment


def check_currency(errors: AnnotatedErrors, obj: Json, tables: Tables) -> None:
    code = obj.get("currency", MISSING)
    if code is MISSING:
        errors.add(("currency",), "currency is required.")
    elif not isinstance(code, str) or code.upper() not in tables["currencies"]:
        errors.add(("currency",), "currency does not exist.", DOES_NOT_EXIST, code)
    else:
        obj["currency"] = code.upper()


# --- customers and products -------------------------------------------------------------------

CUSTOMER_TEXT_LIMITS = {"address": 510, "zip": 30, "city": 50, "country": 50, "email": 255, "ean": 40,
                        "corporateIdentificationNumber": 40, "pNumber": 10, "telephoneAndFaxNumber": 255,
                        "mobilePhone": 50, "website": 255, "vatNumber": 20, "publicEntryNumber": 50}  # fmt: skip
PRODUCT_TEXT_LIMITS = {"description": 500, "barCode": 50}
MAX_CUSTOMER_NUMBER = 999_999_999


def validate_customer(body: Json, tables: Tables) -> Json:
    """A customer to store, or 400; `customerNumber` is optional and assigned when absent (§6)."""
    customer: Json = _copy(body)
    errors = AnnotatedErrors()
    check_text(errors, customer, (), "name", 255, required=True)
    check_currency(errors, customer, tables)
    for name in ("customerGroup", "paymentTerms", "vatZone"):
        check_reference(errors, customer, (), name, tables, required=True)
    check_reference(errors, customer, (), "layout", tables)
    for name, limit in CUSTOMER_TEXT_LIMITS.items():
        check_text(errors, customer, (), name, limit)
    check_number(errors, customer, (), "creditLimit")
    number = customer.get("customerNumber", 1)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_CUSTOMER_NUMBER:
        errors.add(("customerNumber",), f"customerNumber must be 1 to {MAX_CUSTOMER_NUMBER}.", value=number)
    errors.raise_if_any()
    return customer


def validate_product(body: Json, tables: Tables) -> Json:
    """A product to store, or 400; the client chooses `productNumber` (§6)."""
    product: Json = _copy(body)
    errors = AnnotatedErrors()
    check_text(errors, product, (), "productNumber", 25, required=True)
    check_text(errors, product, (), "name", 300, required=True)
    check_reference(errors, product, (), "productGroup", tables, required=True)
    check_reference(errors, product, (), "unit", tables)
    for name, limit in PRODUCT_TEXT_LIMITS.items():
        check_text(errors, product, (), name, limit)
    for name in ("salesPrice", "costPrice", "recommendedPrice"):
        check_number(errors, product, (), name)
    errors.raise_if_any()
    return product


# --- documents ---------------------------------------------------------------------------------


def validate_document(body: Json, tables: Tables) -> Json:
    """The stored form of a posted order or invoice document with its totals, or 400 (§6)."""
    document: Json = _copy(body)
    errors = AnnotatedErrors()
    _check_header(document, tables, errors)
    _check_lines(document, tables, errors)
    errors.raise_if_any()
    return with_totals(document, tables)


def _check_header(document: Json, tables: Tables, errors: AnnotatedErrors) -> None:
    check_currency(errors, document, tables)
    check_date(errors, document, (), "date", required=True)
    check_date(errors, document, (), "dueDate")
    check_number(errors, document, (), "exchangeRate", minimum=Decimal("0.000001"))
    for name in ("customer", "layout", "paymentTerms"):
        check_reference(errors, document, (), name, tables, required=True)
    recipient = _object(document, "recipient", errors, required=True)
    if recipient is not None:
        check_text(errors, recipient, ("recipient",), "name", 250, required=True)
        check_text(errors, recipient, ("recipient",), "ean", 13)
        check_reference(errors, recipient, ("recipient",), "vatZone", tables, required=True)
    _check_texts(document, errors, "references", {"other": 250})
    _check_texts(document, errors, "notes", {"heading": 250, "textLine1": 1000, "textLine2": 1000})
    delivery = _check_texts(document, errors, "delivery", {"address": 255, "zip": 30, "city": 50, "country": 50,
                                                           "deliveryTerms": 100})  # fmt: skip
    if delivery is not None:
        check_date(errors, delivery, ("delivery",), "deliveryDate")


def _check_texts(document: Json, errors: AnnotatedErrors, name: str, limits: dict[str, int]) -> Json | None:
    obj = _object(document, name, errors)
    if obj is not None:
        for field, limit in limits.items():
            check_text(errors, obj, (name,), field, limit)
    return obj


def _object(document: Json, name: str, errors: AnnotatedErrors, *, required: bool = False) -> Json | None:
    value = document.get(name, MISSING)
    if value is MISSING:
        if required:
            errors.add((name,), f"{name} is required.")
        return None
    if not isinstance(value, dict):
        errors.add((name,), f"{name} must be an object.", value=value)
        return None
    return value


def _check_lines(document: Json, tables: Tables, errors: AnnotatedErrors) -> None:
    lines = document.get("lines", [])
    if not isinstance(lines, list):
        errors.add(("lines",), "lines must be an array.")
        return
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            errors.add(("lines", index), "A line must be an object.")
        else:
            _check_line(line, ("lines", index), tables, errors)


def _check_line(line: Json, path: ErrorPath, tables: Tables, errors: AnnotatedErrors) -> None:
    check_reference(errors, line, path, "product", tables)
    check_reference(errors, line, path, "unit", tables)
    has_product = "product" in line
    if has_product and "quantity" not in line:
        errors.add((*path, "quantity"), "quantity is required when a product is set.", QUANTITY_REQUIRED)
    check_number(errors, line, path, "quantity", minimum=CENT)
    check_number(errors, line, path, "unitNetPrice", max_decimals=2)
    check_number(errors, line, path, "discountPercentage", minimum=Decimal("0"))
    check_number(errors, line, path, "unitCostPrice", max_decimals=2)
    check_text(errors, line, path, "description", 2500, required=has_product)


def with_totals(document: Json, tables: Tables) -> Json:
    """Number the lines and compute line and document totals in document and base currency."""
    rate = Decimal(document.get("exchangeRate", EXCHANGE_RATES.get(document["currency"], Decimal("100"))))
    lines = [_priced_line(line, number, tables) for number, line in enumerate(document.get("lines", []), 1)]
    net = sum((line["totalNetAmount"] for line in lines), Decimal("0"))
    vat = sum((line_vat(line, document, tables)[1] for line in lines), Decimal("0"))
    return {
        **document,
        "exchangeRate": rate,
        "lines": lines,
        "netAmount": net,
        "vatAmount": vat,
        "grossAmount": net + vat,
        "roundingAmount": Decimal("0.00"),
        "netAmountInBaseCurrency": round2(net * rate / 100),
        "grossAmountInBaseCurrency": round2((net + vat) * rate / 100),
    }


def _priced_line(line: Json, number: int, tables: Tables) -> Json:
    product = tables["products"].get(line["product"]["productNumber"]) if "product" in line else None
    # A product line without a price takes the product's sales price, as e-conomic does.
    price = Decimal(line["unitNetPrice"] if "unitNetPrice" in line else product["salesPrice"] if product else 0)
    quantity = Decimal(line.get("quantity", 1))
    discount = Decimal(line.get("discountPercentage", 0))
    total = round2(quantity * price * (1 - discount / 100))
    return {"lineNumber": number, "sortKey": number, **line, "unitNetPrice": price, "totalNetAmount": total}


def line_vat(line: Json, document: Json, tables: Tables) -> tuple[Decimal, Decimal]:
    """(rate, amount) of one line: its product group's rate in the domestic zone, else VAT-free."""
    if document["recipient"]["vatZone"]["vatZoneNumber"] != DOMESTIC_VAT_ZONE:
        return Decimal("0"), Decimal("0.00")
    product = tables["products"].get(line["product"]["productNumber"]) if "product" in line else None
    group = product["productGroup"]["productGroupNumber"] if product else None
    rate = VAT_RATE_BY_PRODUCT_GROUP.get(group, STANDARD_VAT_RATE) if group is not None else STANDARD_VAT_RATE
    return rate, round2(line["totalNetAmount"] * rate)


def round2(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_copy(child) for child in value]
    return value


# --- booking -----------------------------------------------------------------------------------


def parse_booking(body: Json, drafts: Mapping[int, Json], booked: Mapping[int, Json],
                  number_in_url: int | None = None) -> tuple[int, int | None]:  # fmt: skip
    """(draft number, wanted booked number or None) from a booking request, or 400 (§6)."""
    errors = AnnotatedErrors()
    draft_number = _reference_number(body.get("draftInvoice"), "draftInvoiceNumber", numeric=True)
    if draft_number is MISSING:
        errors.add(("draftInvoice",), "No identifiers present on draftInvoice.", NO_IDENTIFIER)
    elif draft_number not in drafts:
        errors.add(("draftInvoice",), "draftInvoice does not exist.", DOES_NOT_EXIST, draft_number)
    wanted = body.get("bookWithNumber", number_in_url)
    if number_in_url is not None and wanted != number_in_url:
        errors.add(("bookWithNumber",), "bookWithNumber must match the number in the URL.", value=wanted)
    elif wanted is not None and (isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1):
        errors.add(("bookWithNumber",), "bookWithNumber must be a whole number of at least 1.", value=wanted)
    elif wanted in booked:
        errors.add(("bookWithNumber",), "An invoice with this number is already booked.", value=wanted)
    errors.raise_if_any()
    return draft_number, wanted


def book_draft(draft: Json, number: int, tables: Tables) -> Json:
    """The booked invoice made from a draft: its own number, the draft's references, line VAT."""
    booked = {key: value for key, value in draft.items() if key not in ("draftInvoiceNumber", "templates")}
    booked["bookedInvoiceNumber"] = number
    booked["remainder"] = draft["grossAmount"]
    booked["remainderInBaseCurrency"] = draft["grossAmountInBaseCurrency"]
    booked["lines"] = [_booked_line(line, draft, tables) for line in draft.get("lines", [])]
    return booked


def _booked_line(line: Json, draft: Json, tables: Tables) -> Json:
    rate, amount = line_vat(line, draft, tables)
    return {**line, "vatRate": round2(rate * 100), "vatAmount": amount}
