"""Pure conversions from Starweb Shop API v2 payloads (spec §6) to canonical types."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from shopbridge.connectors.base import OrderSummary
from shopbridge.errors import DataError
from shopbridge.model import Address, Customer, Money, Order, OrderLine, OrderLineKind, OrderState, round_cents

SYSTEM = "starweb"
Payload = Mapping[str, Any]

RATE_PLACES = Decimal("0.0001")
MESSAGE_LIMIT = 300
# No amount, rate or quantity of a real order comes near this; rounding beyond it would overflow.
NUMBER_LIMIT = Decimal("1e15")
ID_LIMIT = 18  # digits; Starweb ids are integers, anything longer is not one
# Standard statuses by idCode (spec §6 OrderStatus). Listed orders have completed checkout
# (`isComplete`), so a new order is a paid one; custom statuses have no idCode and map via `state_map`.
DEFAULT_STATE_BY_CODE: dict[str, OrderState] = {
    "created": OrderState.PAID,
    "picking": OrderState.PROCESSING,
    "completed": OrderState.SHIPPED,
    "canceled": OrderState.CANCELLED,
}
# Order addresses in the order they are trusted for each role (spec §5 /orders/{id}/addresses).
INVOICE_ADDRESSES = ("originalInvoice", "customerInvoice", "paymentMethodInvoice")
DELIVERY_ADDRESSES = ("originalDelivery", "customerDelivery", "paymentMethodDelivery")


class FieldError(ValueError):
    """One field of a payload is missing or cannot be read."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


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
    message = (f"{where}: " if where else "") + problem
    message = message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + "…"
    raise DataError(message, system=SYSTEM, operation=operation) from None


# --- scalars ---


def text(payload: Payload, field: str, default: str | None = None) -> str:
    value = payload.get(field)
    if value is None:
        if default is None:
            raise FieldError(field, "is missing")
        return default
    if not isinstance(value, str):
        raise FieldError(field, "is not text")
    return value


def identifier(payload: Payload, field: str) -> str:
    """A positive integer id as text; JSON numbers and digit strings are accepted."""
    value = payload.get(field)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FieldError(field, "is missing" if value is None else "is not an id")
    digits = str(value).strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > ID_LIMIT or int(digits) == 0:
        raise FieldError(field, f"is not an id: {digits[:40]!r}")
    return str(int(digits))


def decimal(payload: Payload, field: str, default: str | None = None) -> Decimal:
    """A JSON number as Decimal, through its shortest text (the API prints amounts as floats)."""
    value = payload.get(field)
    if value is None:
        if default is None:
            raise FieldError(field, "is missing")
        return Decimal(default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(field, "is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(field, f"is not a number: {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise FieldError(field, f"is not a finite number: {str(value)[:40]!r}")
    if abs(number) >= NUMBER_LIMIT:
        raise FieldError(field, f"is out of range: {str(value)[:40]!r}")
    return number


def percent_rate(payload: Payload, field: str) -> Decimal:
    return (decimal(payload, field, "0") / 100).quantize(RATE_PLACES)


# --- time (spec §4: ISO-8601 with offset) ---


def parse_time(value: object, timezone: str) -> datetime:
    """An ISO-8601 time as aware UTC; one printed without an offset is read in the shop's zone."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is not a time text")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"is not an ISO-8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def time_field(payload: Payload, field: str, timezone: str) -> datetime:
    try:
        return parse_time(payload.get(field), timezone)
    except ValueError as exc:
        raise FieldError(field, "is missing" if payload.get(field) is None else str(exc)) from None


# --- statuses ---


def canonical_state(status_id: str, id_code: str, state_map: Mapping[str, OrderState]) -> OrderState:
    """The shop's own mapping by status id first, then the standard statuses by idCode."""
    return state_map.get(status_id) or DEFAULT_STATE_BY_CODE.get(id_code, OrderState.UNKNOWN)


# --- summaries ---


def summary_from_starweb(row: Payload, shop: str, timezone: str, unreadable_time: datetime | None = None,
                         ) -> OrderSummary:  # fmt: skip
    """One row of `GET /orders`.

    A row whose `modifiedAt` cannot be read takes `unreadable_time` when one is given: the order
    is then read whole, and parked with the reason, instead of one bad row stopping every poll.
    """
    with reading(f"order {_id_for_message(row)}", "order_changes"):
        order_id, status = identifier(row, "orderId"), identifier(row, "statusId")
        try:
            changed = time_field(row, "modifiedAt", timezone)
        except FieldError:
            if unreadable_time is None:
                raise
            changed = unreadable_time.astimezone(UTC)
        return OrderSummary(id=order_id, shop=shop, status=status, updated_at=changed)


def _id_for_message(payload: object) -> str:
    value = payload.get("orderId") if isinstance(payload, Mapping) else None
    return str(value)[:20] if value is not None else "?"


# --- whole orders ---


def order_from_starweb(order: Payload, shop: str, timezone: str, state_map: Mapping[str, OrderState]) -> Order:
    """A whole order from `GET /orders/{id}?include=items,addresses,status,customer`.

    `created_at` is in the shop's own zone (the ERP document date is the shop's local day).
    Raises DataError naming the order and the field when anything cannot be read.
    """
    with reading(f"order {_id_for_message(order)}"):
        currency = Money(amount=Decimal(0), currency=text(order, "currencyCode")).currency
        addresses = embedded(order, "addresses", dict)
        billing = address_from_starweb(_first(addresses, INVOICE_ADDRESSES, "an invoice address"), "invoice address")
        delivery = [addresses[key] for key in DELIVERY_ADDRESSES if isinstance(addresses.get(key), Mapping)]
        shipping = address_from_starweb(delivery[0], "delivery address") if delivery else billing
        status = identifier(order, "statusId")
        net = round_cents(decimal(order, "totalAmount"))
        return Order(
            id=identifier(order, "orderId"),
            shop=shop,
            reference=identifier(order, "orderId"),
            status=status,
            state=canonical_state(status, _status_code(order), state_map),
            created_at=time_field(order, "createdAt", timezone).astimezone(ZoneInfo(timezone)),
            updated_at=time_field(order, "modifiedAt", timezone),
            currency=currency,
            customer=customer_from_starweb(order, billing),
            billing_address=billing,
            shipping_address=shipping,
            lines=order_lines(order, currency),
            total_net=Money(amount=net, currency=currency),
            total_gross=Money(amount=net + round_cents(decimal(order, "totalVat")), currency=currency),
        )


def embedded(payload: Payload, field: str, kind: type) -> Any:
    """An included child: `"field": {"data": …}` (spec §4)."""
    wrapper = payload.get(field)
    inner = wrapper.get("data") if isinstance(wrapper, Mapping) else None
    if not isinstance(inner, kind):
        raise FieldError(field, "was not included" if wrapper is None else "is not a {data: …} wrapper")
    return inner


def _first(addresses: Mapping[str, Any], keys: Sequence[str], what: str) -> Payload:
    for key in keys:
        if isinstance(addresses.get(key), Mapping):
            found: Payload = addresses[key]
            return found
    raise FieldError("addresses", f"the order has no {what}")


def _status_code(order: Payload) -> str:
    wrapper = order.get("status")
    status = wrapper.get("data") if isinstance(wrapper, Mapping) else None
    code = status.get("idCode") if isinstance(status, Mapping) else None
    return code if isinstance(code, str) else ""


def address_from_starweb(address: Payload, what: str) -> Address:
    with reading(what):
        return Address(
            first_name=text(address, "firstName", ""),
            last_name=text(address, "lastName", ""),
            company=text(address, "companyName", ""),
            street=text(address, "address", ""),
            street2=" ".join(part for part in (text(address, "careOf", ""), text(address, "attention", "")) if part),
            postcode=text(address, "postalCode", ""),
            city=text(address, "city", ""),
            country=text(address, "countryCode", ""),
            phone=text(address, "phoneNo", "") or text(address, "mobilePhoneNo", ""),
        )


def customer_from_starweb(order: Payload, billing: Address) -> Customer:
    """The buyer: email from the customer record (else the one given at checkout), names from the invoice address."""
    with reading("customer"):
        wrapper = order.get("customer")
        record = wrapper.get("data") if isinstance(wrapper, Mapping) else None
        record = record if isinstance(record, Mapping) else {}
        email = text(record, "email", "") or text(order, "originalCustomerEmail", "")
        if not email:
            raise FieldError("email", "neither the customer nor the order has one")
        return Customer(
            email=email,
            first_name=billing.first_name,
            last_name=billing.last_name,
            company=billing.company,
            phone=billing.phone,
            vat_number=text(record, "vatNo", "") or text(order, "originalCustomerVatNo", ""),
            address=billing,
        )


def order_lines(order: Payload, currency: str) -> list[OrderLine]:
    """Item rows, then shipping and the payment fee when they cost anything."""
    items = embedded(order, "items", list)
    if not items:
        raise FieldError("items", "the order has no item rows")
    lines = [product_line(row, number, currency) for number, row in enumerate(items, start=1)]
    extras = (
        _extra_line(order, "shippingCost", "shippingVatRate", OrderLineKind.SHIPPING,
                    text(order, "shippingMethodName", "") or "Shipping", currency),
        _extra_line(order, "paymentFee", "paymentVatRate", OrderLineKind.FEE,
                    text(order, "paymentMethodName", "") or "Payment fee", currency),
    )  # fmt: skip
    return lines + [line for line in extras if line is not None]


def product_line(row: Payload, number: int, currency: str) -> OrderLine:
    """One item row; `unitPrice` is ex VAT and the row discount is an amount or a percentage (OrderItemModel)."""
    with reading(f"line {number}"):
        if not isinstance(row, Mapping):
            raise FieldError("items", "a row is not an object")
        sku = text(row, "sku", "").strip()
        if not sku:
            raise FieldError("sku", "is empty, so the line has no SKU (Starweb maps lines by SKU only)")
        quantity = decimal(row, "quantity")
        if quantity <= 0:
            raise FieldError("quantity", f"must be above 0, got {quantity}")
        net = row_net(row, quantity)
        rate = percent_rate(row, "vatRate")
        return OrderLine(
            kind=OrderLineKind.PRODUCT,
            name=text(row, "description", "") or sku,
            sku=sku,
            quantity=quantity,
            unit_price=Money(amount=net / quantity, currency=currency),
            vat_rate=rate,
            total_net=Money(amount=net, currency=currency),
            total_gross=Money(amount=round_cents(net * (1 + rate)), currency=currency),
        )


def row_net(row: Payload, quantity: Decimal) -> Decimal:
    gross_row = decimal(row, "unitPrice") * quantity
    discount = decimal(row, "discount", "0")
    if discount < 0:
        raise FieldError("discount", "is negative")
    kind = text(row, "discountType", "percent")
    if kind == "amount":
        return round_cents(gross_row - discount)
    if kind != "percent" or discount > 100:
        raise FieldError("discount", f"{discount} {kind[:20]!r} is not an amount or a percentage up to 100")
    return round_cents(gross_row * (1 - discount / 100))


def _extra_line(order: Payload, amount_field: str, rate_field: str, kind: OrderLineKind, name: str,
                currency: str) -> OrderLine | None:  # fmt: skip
    net = round_cents(decimal(order, amount_field, "0"))
    if net == 0:
        return None
    if net < 0:
        raise FieldError(amount_field, "is negative")
    rate = percent_rate(order, rate_field)
    return OrderLine(
        kind=kind, name=name, quantity=Decimal(1), unit_price=Money(amount=net, currency=currency), vat_rate=rate,
        total_net=Money(amount=net, currency=currency),
        total_gross=Money(amount=round_cents(net * (1 + rate)), currency=currency),
    )  # fmt: skip


# --- webhooks: hints, never data (spec §6 WebHook) ---


def webhook_hints(payload: object) -> list[tuple[str, str]]:
    """The (shop, order id) a webhook body names, at most one; nothing for bodies that name no order.

    The body is unauthenticated and only says which order to read again from the API: nothing
    else in it is used, and a body that does not look like an order event yields no hint.
    """
    if not isinstance(payload, Mapping):
        return []
    shop = payload.get("shopIdCode")
    try:
        order_id = identifier(payload, "orderId")
    except FieldError:
        return []
    if not isinstance(shop, str) or not shop.strip() or len(shop) > 64 or not shop.isprintable():
        return []
    return [(shop.strip(), order_id)]
