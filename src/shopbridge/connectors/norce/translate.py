"""Norce Query 2.0 payloads to canonical orders, and pushed payloads to order hints. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from shopbridge.connectors.base import OrderSummary
from shopbridge.errors import DataError
from shopbridge.model import Address, Customer, Money, Order, OrderLine, OrderLineKind, OrderState, round_cents

SYSTEM = "norce"
Payload = dict[str, Any]
MESSAGE_LIMIT = 300
HUNDRED = Decimal(100)
EXTRA_LINES = (("FreightCost", OrderLineKind.SHIPPING, "Freight"), ("OrderFee", OrderLineKind.FEE, "Order fee"))

# Spec §3 status ids onto canonical states. 0 Created is a completed checkout (payment authorised).
DEFAULT_STATES: dict[str, OrderState] = {
    "0": OrderState.PAID, "1": OrderState.PROCESSING, "2": OrderState.PROCESSING, "3": OrderState.BACKORDERED,
    "4": OrderState.SHIPPED, "5": OrderState.INVOICED, "6": OrderState.CANCELLED,
    "7": OrderState.PENDING_PAYMENT, "8": OrderState.PROCESSING, "9": OrderState.PROCESSING,
    "10": OrderState.PROCESSING, "11": OrderState.PROCESSING, "12": OrderState.DELIVERED,
    "13": OrderState.CANCELLED, "14": OrderState.PENDING_PAYMENT, "15": OrderState.CANCELLED,
    "16": OrderState.PENDING_PAYMENT, "17": OrderState.UNKNOWN, "18": OrderState.UNKNOWN,
    "19": OrderState.PROCESSING, "20": OrderState.PROCESSING,
}  # fmt: skip
# The Query API has no status history. The order process (spec §10: 0 → 2 → 4/8 → 5) says which
# statuses an order must have passed to reach its current one.
_PASSED: dict[str, tuple[str, ...]] = {
    "4": ("0", "2"), "5": ("0", "2", "4"), "8": ("0", "2"), "11": ("0", "2"), "12": ("0", "2", "11"),
    "13": ("0", "2", "11"),
}  # fmt: skip


@dataclass(frozen=True)
class OrderHint:
    """Which order a push or event names: the channel (ApplicationId) and the order number."""

    shop: str
    order_id: str


# --- reading values ---


@contextmanager
def reading(where: str, operation: str = "get_order") -> Iterator[None]:
    """Turn any failure to read a payload into one DataError that says where it happened."""
    try:
        yield
    except DataError as exc:
        problem = exc.message
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        problem = f"{'.'.join(str(part) for part in first['loc']) or 'value'}: {first['msg']}"
    except (ValueError, ArithmeticError, TypeError, AttributeError, KeyError) as exc:
        problem = str(exc)
    else:
        return
    message = f"{where}: {problem}" if where else problem
    raise DataError(message[:MESSAGE_LIMIT], system=SYSTEM, operation=operation) from None


def text(payload: Payload, field: str) -> str:
    value = payload.get(field)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{field} is not text")
    found = str(value).strip()
    if any(ord(char) < 32 and char not in "\t\n\r" for char in found):
        raise ValueError(f"{field} contains control characters")
    return found


def decimal(payload: Payload, field: str, default: Decimal | None = None) -> Decimal:
    """A JSON number (read as Decimal by the client) or numeric string; never bool, never NaN."""
    value = payload.get(field)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValueError(f"{field} is missing or not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{field} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{field} is not a finite number")
    return number


def integer(payload: Payload, field: str) -> int:
    value = payload.get(field)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ValueError(f"{field} is missing or not a whole number")
    return int(value)


def parse_time(value: object, field: str = "time") -> datetime:
    """Edm.DateTimeOffset; a value without offset is read as UTC, the Query API's clock (spec §2b)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} is missing")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field} {value[:40]!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def odata_literal(moment: datetime) -> str:
    """An unquoted UTC datetime literal (spec §2b), to the microsecond so bounds stay exact."""
    if moment.tzinfo is None:
        raise ValueError("OData times must be aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def quoted(value: str) -> str:
    """An OData string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


# --- filters (spec §2b) ---


def channels_clause(application_ids: Sequence[int]) -> str:
    """The header sets context only, so every query names its channels (spec §2b)."""
    return "(" + " or ".join(f"ApplicationId eq {int(app)}" for app in application_ids) + ")"


def updated_filter(application_ids: Sequence[int], since: datetime, until: datetime) -> str:
    low, high = odata_literal(since), odata_literal(until)
    return f"{channels_clause(application_ids)} and Updated ge {low} and Updated le {high}"


def never_updated_filter(application_ids: Sequence[int], since: datetime, until: datetime) -> str:
    """`Updated` is null until an order first changes; such orders are found by `Created`."""
    low, high = odata_literal(since), odata_literal(until)
    return f"{channels_clause(application_ids)} and Updated eq null and Created ge {low} and Created le {high}"


# --- summaries and statuses ---


def changed_at(row: Payload) -> datetime:
    """When the order last changed: `Updated`, or `Created` while `Updated` is null."""
    updated = row.get("Updated")
    return parse_time(updated, "Updated") if updated not in (None, "") else parse_time(row.get("Created"), "Created")


def summary_from_norce(row: Payload) -> OrderSummary:
    with reading(f"order {str(row.get('OrderNo'))[:40]}", "order_changes"):
        return OrderSummary(
            id=order_number(row), shop=str(integer(row, "ApplicationId")),
            status=str(integer(row, "StatusId")), updated_at=changed_at(row),
        )  # fmt: skip


def order_number(row: Payload) -> str:
    number = text(row, "OrderNo")
    if not number:
        raise ValueError("OrderNo is missing")
    return number


def canonical_state(status: str, state_map: Mapping[str, OrderState]) -> OrderState:
    return state_map.get(status) or DEFAULT_STATES.get(status, OrderState.UNKNOWN)


def status_path(status: str) -> list[str]:
    """Every status an order in `status` has passed, oldest first, ending with `status`."""
    passed = _PASSED.get(status, ("0",) if status != "0" else ())
    return [*passed, status]


# --- orders ---


def order_from_norce(
    row: Payload,
    currencies: Mapping[int, str],
    countries: Mapping[int, str],
    timezone: str,
    state_map: Mapping[str, OrderState],
) -> Order:
    """One `Orders/Orders?$expand=Items,Buyer` row as a canonical order, times in the channel's zone."""
    with reading(f"order {str(row.get('OrderNo'))[:40]}"):
        zone = ZoneInfo(timezone)
        currency = _lookup(currencies, integer(row, "CurrencyId"), "CurrencyId")
        buyer = _payload(row, "Buyer")
        billing = _buyer_address(buyer, countries)
        lines = order_lines(row, currency)
        status = str(integer(row, "StatusId"))
        return Order(
            id=order_number(row), shop=str(integer(row, "ApplicationId")), reference=order_number(row),
            status=status, state=canonical_state(status, state_map),
            created_at=parse_time(row.get("Created"), "Created").astimezone(zone),
            updated_at=changed_at(row).astimezone(zone), currency=currency,
            customer=_customer(buyer, billing), billing_address=billing,
            shipping_address=_delivery_address(row, billing, countries), lines=lines,
            total_net=_sum(lines, currency, gross=False), total_gross=_sum(lines, currency, gross=True),
        )  # fmt: skip


def _payload(row: Payload, field: str) -> Payload:
    value = row.get(field)
    if not isinstance(value, dict):
        raise ValueError(f"{field} is missing (ask for it with $expand)")
    return value


def _lookup(table: Mapping[int, str], key: int, field: str) -> str:
    if key not in table:
        raise ValueError(f"{field} {key} is not a known code")
    return table[key]


def _country(payload: Payload, field: str, countries: Mapping[int, str]) -> str:
    value = payload.get(field)
    return "" if value in (None, 0, "0", "") else _lookup(countries, integer(payload, field), field)


def _buyer_address(buyer: Payload, countries: Mapping[int, str]) -> Address:
    return Address(
        first_name=text(buyer, "FirstName"), last_name=text(buyer, "LastName"), company=text(buyer, "CompanyName"),
        street=text(buyer, "Address1"), postcode=text(buyer, "ZipCode"), city=text(buyer, "City"),
        country=_country(buyer, "CountryId", countries), phone=text(buyer, "Phone"),
    )  # fmt: skip


def _delivery_address(row: Payload, billing: Address, countries: Mapping[int, str]) -> Address:
    """The order's `Delivery*` fields; an order without them ships to the buyer."""
    if not text(row, "DeliveryAddress1") and not text(row, "DeliveryZipCode"):
        return billing
    return Address(
        first_name=text(row, "DeliveryFirstName"), last_name=text(row, "DeliveryLastName"),
        company=text(row, "DeliveryCompanyName"), street=text(row, "DeliveryAddress1"),
        postcode=text(row, "DeliveryZipCode"), city=text(row, "DeliveryCity"),
        country=_country(row, "DeliveryCountryId", countries),
    )  # fmt: skip


def _customer(buyer: Payload, billing: Address) -> Customer:
    return Customer(
        email=text(buyer, "EmailAddress"), first_name=billing.first_name, last_name=billing.last_name,
        company=billing.company, phone=billing.phone, address=billing,
    )  # fmt: skip


def order_lines(row: Payload, currency: str) -> list[OrderLine]:
    """Items, their discounts, then freight and the order fee. There is no order total (spec §2b)."""
    items = row.get("Items")
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise ValueError("Items are missing (ask for them with $expand)")
    lines: list[OrderLine] = []
    for item in items:
        lines.extend(item_lines(item, currency))
    top_rate = max(line.vat_rate for line in lines)
    for field, kind, name in EXTRA_LINES:
        amount = decimal(row, field, Decimal(0))
        if amount < 0:
            raise ValueError(f"{field} is negative")
        if amount:
            # Freight and fees carry the order's highest VAT rate (Nordic practice; the Query order has no fee rate).
            lines.append(OrderLine.priced(kind, name, Decimal(1), Money(amount=amount, currency=currency), top_rate))
    return lines


def item_lines(item: Payload, currency: str) -> list[OrderLine]:
    """A product line at `PriceSale` × `QtyOrdered`, and its `DiscountAmount` as a discount line."""
    with reading(f"item {str(item.get('LineNumber'))[:10]}"):
        quantity = decimal(item, "QtyOrdered")
        rate = decimal(item, "VatRate") / HUNDRED
        price = decimal(item, "PriceSale")
        if price < 0:
            raise ValueError("PriceSale is negative")
        name = text(item, "ProductName") or text(item, "PartNo")
        unit = Money(amount=price, currency=currency)
        lines = [OrderLine.priced(OrderLineKind.PRODUCT, name, quantity, unit, rate, sku=text(item, "PartNo"))]
        discount = decimal(item, "DiscountAmount", Decimal(0))
        if discount > 0:
            off = Money(amount=-discount, currency=currency)
            lines.append(OrderLine.priced(OrderLineKind.DISCOUNT, f"Discount {name}"[:2500], Decimal(1), off, rate))
        return lines


def _sum(lines: Sequence[OrderLine], currency: str, gross: bool) -> Money:
    total = sum(((line.total_gross if gross else line.total_net).amount for line in lines), Decimal(0))
    return Money(amount=round_cents(total), currency=currency)


# --- push and events (spec §2a, §2c): hints only, the order is read back from the Query API ---


def push_hint(payload: object, channel_keys: Mapping[str, str]) -> OrderHint:
    """The channel and order an OrderRequest names: `Header.ApplicationKey` and `ClientOrderRef`.

    `channel_keys` maps each configured channel's GUID (any case) to its ApplicationId.
    """
    with reading("pushed order", "push"):
        if not isinstance(payload, dict):
            raise ValueError("the push is not a JSON object")
        key = text(_payload(payload, "Header"), "ApplicationKey").lower()
        known = {guid.strip().lower(): app for guid, app in channel_keys.items()}
        if key not in known:
            raise ValueError(f"ApplicationKey {key[:40]!r} is not a configured channel")
        return OrderHint(known[key], checked_order_number(text(payload, "ClientOrderRef")))


def event_hint(payload: object) -> OrderHint:
    """The channel and order an order event (`OrderConfirmedEvent` …) names."""
    with reading("order event", "push"):
        if not isinstance(payload, dict):
            raise ValueError("the event is not a JSON object")
        return OrderHint(str(integer(payload, "ApplicationId")), checked_order_number(text(payload, "OrderNo")))


def checked_order_number(value: str) -> str:
    """Order numbers are short runs of letters, digits and dashes; anything else never reaches a query."""
    candidate = value.strip()
    allowed = all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in candidate)
    if not candidate or len(candidate) > 40 or not allowed:
        raise DataError(f"{candidate[:40]!r} is not a Norce order number", SYSTEM, "get_order")
    return candidate
