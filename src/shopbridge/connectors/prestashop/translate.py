"""Pure conversions between PrestaShop webservice payloads (JSON output) and canonical types."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from shopbridge.connectors.base import OrderSummary
from shopbridge.errors import DataError
from shopbridge.model import Address, Customer, Money, Order, OrderLine, OrderLineKind, OrderState, round_cents
from shopbridge.model.discount import split_discounts

SYSTEM = "prestashop"
Payload = Mapping[str, Any]

WIRE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ZERO_DATE = "0000-00-00 00:00:00"
RATE_PLACES = Decimal("0.0001")
# Longer than any daylight-saving shift in use, so the search for one around a bound finds it.
DST_SEARCH = timedelta(hours=3)
MESSAGE_LIMIT = 300

# Spec §8.1: the order states a 1.6 install creates. Later versions differ slightly, hence
# the per-connection `state_map` overrides.
DEFAULT_STATE_MAP: dict[str, OrderState] = {
    "1": OrderState.PENDING_PAYMENT,  # Awaiting check payment
    "2": OrderState.PAID,  # Payment accepted
    "3": OrderState.PROCESSING,  # Processing in progress
    "4": OrderState.SHIPPED,
    "5": OrderState.DELIVERED,
    "6": OrderState.CANCELLED,
    "7": OrderState.REFUNDED,
    "8": OrderState.PAYMENT_ERROR,
    "9": OrderState.BACKORDERED,  # On backorder (paid)
    "10": OrderState.PENDING_PAYMENT,  # Awaiting bank wire payment
    "11": OrderState.PENDING_PAYMENT,  # Awaiting PayPal payment
    "12": OrderState.PAID,  # Remote payment accepted
    # On backorder (not paid): the missing payment is what transfer rules must see.
    "13": OrderState.PENDING_PAYMENT,
    "14": OrderState.PENDING_PAYMENT,  # Awaiting cash-on-delivery validation
}


class FieldError(ValueError):
    """One field of a payload is missing or cannot be read."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


# --- time: the API prints and filters shop-local wall-clock times (spec §3.2, §4.1) ---


def utc_to_local(moment: datetime, timezone: str) -> str:
    """An aware datetime as the shop's wall-clock text, the form filters compare against."""
    if moment.tzinfo is None:
        raise ValueError("utc_to_local needs an aware datetime")
    return moment.astimezone(ZoneInfo(timezone)).strftime(WIRE_TIME_FORMAT)


def local_readings(text: str, timezone: str) -> tuple[datetime, datetime]:
    """Both UTC instants a wall-clock text can mean, earliest first (equal unless at a DST change).

    `fold=0` and `fold=1` pick the two offsets of a repeated autumn hour; for a time that does
    not exist (the skipped spring hour) they pick the offsets before and after the jump.
    """
    naive = datetime.strptime(text.strip(), WIRE_TIME_FORMAT)
    zone = ZoneInfo(timezone)
    readings = sorted(naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    return readings[0], readings[1]


def local_to_utc(text: str, timezone: str) -> datetime:
    """Shop wall-clock text as aware UTC; a zero date raises ValueError.

    Ambiguous and non-existent times resolve to the EARLIER instant on purpose (the smaller of
    the `fold=0` and `fold=1` readings): an order then looks changed up to an hour before it
    really was. That can only hold a cursor back, and the flow already re-reads an overlap
    window behind its cursor, so the order is at worst read twice (transfers are idempotent).
    The later instant could carry a cursor past orders changed in between, which would then
    never be read. Which orders a window selects does not depend on this choice: see
    `local_window` and `within_window`, which consider both readings.
    """
    if text.strip() == ZERO_DATE:
        raise ValueError("zero date")
    return local_readings(text, timezone)[0]


def local_window(since: datetime, until: datetime, timezone: str) -> tuple[str, str]:
    """The wall-clock range to filter on so that no instant of [since, until] is missed.

    Wall time runs backwards when clocks go back, so the wall time of `since` is not always the
    smallest in the window (nor that of `until` the largest). Each bound is widened by the
    offset change of a nearby transition; the extra orders this can return are dropped by
    `within_window`, and reading one twice is harmless.
    """
    zone = ZoneInfo(timezone)

    def offset(moment: datetime) -> timedelta:
        return moment.astimezone(zone).utcoffset() or timedelta(0)

    low = since.astimezone(UTC) + min(offset(since), offset(since + DST_SEARCH))
    high = until.astimezone(UTC) + max(offset(until), offset(until - DST_SEARCH))
    return low.strftime(WIRE_TIME_FORMAT), high.strftime(WIRE_TIME_FORMAT)


def within_window(text: str, since: datetime, until: datetime, timezone: str) -> bool:
    """Whether either reading of a wall-clock time falls inside [since, until]."""
    return any(since <= reading <= until for reading in local_readings(text, timezone))


def required_time(payload: Payload, field: str, timezone: str) -> datetime:
    moment = optional_time(payload, field, timezone)
    if moment is None:
        raise FieldError(field, "is missing")
    return moment


def optional_time(payload: Payload, field: str, timezone: str) -> datetime | None:
    """A date field as UTC, or None for a zero/empty date (Airbyte nulls them the same way)."""
    value = payload.get(field)
    if value in (None, "", ZERO_DATE):
        return None
    if not isinstance(value, str):
        raise FieldError(field, "is not a date text")
    try:
        return local_to_utc(value, timezone)
    except ValueError:
        raise FieldError(field, f"is not a date in the form YYYY-MM-DD HH:MM:SS: {value[:40]!r}") from None


# --- scalar readers: JSON output prints every value but `id` as a string (spec §3.2) ---


def text(payload: Payload, field: str, default: str | None = None) -> str:
    value = payload.get(field)
    if value is None:
        if default is None:
            raise FieldError(field, "is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(field, "is not text")
    return str(value)


def decimal(payload: Payload, field: str, default: str | None = None) -> Decimal:
    raw = text(payload, field, default).strip() or (default or "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(field, f"is not a number: {raw[:40]!r}") from None
    if not value.is_finite():
        raise FieldError(field, f"is not a finite number: {raw[:40]!r}")
    return value


def identifier(payload: Payload, field: str) -> str:
    """A PrestaShop id as text; ids are unsigned integers, 0 meaning none."""
    value = text(payload, field, "0").strip() or "0"
    if not value.isascii() or not value.isdigit():
        raise FieldError(field, f"is not an id: {value[:40]!r}")
    return str(int(value))


def derived_rate(excl: Decimal, incl: Decimal) -> Decimal:
    """The VAT rate implied by a net and a gross amount, as a fraction with 4 decimals."""
    if excl == 0:
        return Decimal("0.0000")
    return (incl / excl - 1).quantize(RATE_PLACES)


def percent_rate(payload: Payload, field: str) -> Decimal:
    return (decimal(payload, field) / 100).quantize(RATE_PLACES)


def canonical_state(status_id: str, state_map: Mapping[str, OrderState]) -> OrderState:
    """The canonical state of a PrestaShop order state id (spec §8.1 defaults, then overrides)."""
    key = str(status_id).strip()
    return state_map.get(key) or DEFAULT_STATE_MAP.get(key, OrderState.UNKNOWN)


# --- orders ---


@contextmanager
def reading(where: str, operation: str = "get_order") -> Iterator[None]:
    """Turn any failure to read a payload into one DataError that says where it happened."""
    try:
        yield
    except DataError as exc:
        problem = exc.message
    except ValidationError as exc:
        problem = describe(exc)
    except (ValueError, ArithmeticError, TypeError, AttributeError, KeyError) as exc:
        problem = str(exc)
    else:
        return
    prefix = f"{where}: " if where else ""
    raise DataError(_short(prefix + problem), system=SYSTEM, operation=operation) from None


def describe(exc: ValidationError) -> str:
    """The first validation problem as `field: message`, without echoing the (maybe huge) input."""
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "value"
    return f"{field}: {first['msg']}"


def _short(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + "…"


def summary_from_prestashop(row: Payload, timezone: str) -> OrderSummary:
    """One row of `GET orders?display=[id,current_state,date_upd,id_shop]`."""
    with reading(f"order {_id_for_message(row)}", "order_changes"):
        return OrderSummary(
            id=identifier(row, "id"),
            shop=_shop(row),
            status=identifier(row, "current_state"),
            updated_at=required_time(row, "date_upd", timezone),
        )


def summaries_in_window(
    rows: Sequence[Payload], since: datetime, until: datetime, timezone: str
) -> list[OrderSummary]:
    """Summaries of the rows changed within [since, until]; see `local_window` for the others."""
    summaries = [summary_from_prestashop(row, timezone) for row in rows]
    return [
        summary
        for summary, row in zip(summaries, rows, strict=True)
        if within_window(text(row, "date_upd"), since, until, timezone)
    ]


def _id_for_message(payload: Payload) -> str:
    value = payload.get("id") if isinstance(payload, Mapping) else None
    return str(value)[:20] if value is not None else "?"


def _shop(payload: Payload) -> str:
    shop = identifier(payload, "id_shop")
    return "1" if shop == "0" else shop


def order_from_prestashop(
    order: Payload,
    details: Sequence[Payload],
    customer: Payload,
    delivery_address: Payload,
    invoice_address: Payload,
    country_iso: Mapping[str, str],
    currency_iso: str,
    carrier_name: str,
    timezone: str,
    state_map: Mapping[str, OrderState],
) -> Order:
    """A whole order from `orders/{id}`, its `order_details` and the records they point to.

    Raises DataError naming the order and the field when anything cannot be read.
    """
    with reading(f"order {_id_for_message(order)}"):
        currency = Money(amount=Decimal(0), currency=currency_iso).currency
        billing = address_from_prestashop(invoice_address, country_iso, "invoice address")
        # Returned in the shop's own zone: the ERP document date is the shop's local day.
        zone = ZoneInfo(timezone)
        created = required_time(order, "date_add", timezone).astimezone(zone)
        updated = optional_time(order, "date_upd", timezone)
        status = identifier(order, "current_state")
        return Order(
            id=identifier(order, "id"),
            shop=_shop(order),
            reference=text(order, "reference", ""),
            status=status,
            state=canonical_state(status, state_map),
            created_at=created,
            updated_at=updated.astimezone(zone) if updated else created,
            currency=currency,
            customer=customer_from_prestashop(customer, billing),
            billing_address=billing,
            shipping_address=address_from_prestashop(delivery_address, country_iso, "delivery address"),
            lines=order_lines(order, details, currency, carrier_name),
            total_net=money(order, "total_paid_tax_excl", currency),
            total_gross=money(order, "total_paid_tax_incl", currency),
        )


def money(
    payload: Payload, field: str, currency: str, *, cents: bool = True, sign: int = 1, default: str | None = None
) -> Money:
    """An amount field as Money, rounded to cents unless `cents` is False; errors name the field."""
    amount = decimal(payload, field, default)
    try:
        return Money(amount=sign * (round_cents(amount) if cents else amount), currency=currency)
    except ValidationError as exc:
        raise FieldError(field, describe(exc).removeprefix("amount: ")) from None


def customer_from_prestashop(customer: Payload, billing: Address) -> Customer:
    """The buyer: name and email from the customer record, the rest from the invoice address."""
    with reading("customer"):
        return Customer(
            email=text(customer, "email"),
            first_name=text(customer, "firstname", ""),
            last_name=text(customer, "lastname", ""),
            company=text(customer, "company", "") or billing.company,
            phone=billing.phone,
            vat_number=billing.vat_number,
            address=billing,
        )


def address_from_prestashop(address: Payload, country_iso: Mapping[str, str], what: str) -> Address:
    """An `addresses/{id}` record; the country id is resolved to its ISO code."""
    with reading(what):
        country_id = identifier(address, "id_country")
        if country_id not in country_iso:
            raise FieldError("id_country", f"country {country_id} has no known ISO code")
        return Address(
            first_name=text(address, "firstname", ""),
            last_name=text(address, "lastname", ""),
            company=text(address, "company", ""),
            street=text(address, "address1", ""),
            street2=text(address, "address2", ""),
            postcode=text(address, "postcode", ""),
            city=text(address, "city", ""),
            country=country_iso[country_id],
            phone=text(address, "phone", "") or text(address, "phone_mobile", ""),
            vat_number=text(address, "vat_number", ""),
        )


def order_lines(order: Payload, details: Sequence[Payload], currency: str, carrier_name: str) -> list[OrderLine]:
    """Product lines from order_details, then shipping, discount and gift-wrapping lines."""
    if not details:
        raise FieldError("order_details", "the order has no product lines")
    lines = [product_line(detail, number, currency) for number, detail in enumerate(details, start=1)]
    extras = (
        _extra_line(order, "total_shipping", OrderLineKind.SHIPPING, carrier_name or "Shipping", currency),
        _extra_line(order, "total_discounts", OrderLineKind.DISCOUNT, "Discount", currency),
        _extra_line(order, "total_wrapping", OrderLineKind.FEE, "Gift wrapping", currency),
    )
    # A discount over goods at several VAT rates becomes one line per rate (model/discount.py).
    return split_discounts(lines + [line for line in extras if line is not None])


def product_line(detail: Payload, number: int, currency: str) -> OrderLine:
    """One `order_details` row. For a combination, `product_reference` holds its own reference."""
    with reading(f"line {number}"):
        sku = text(detail, "product_reference", "").strip()
        if not sku:
            raise FieldError("product_reference", "is empty, so the line has no SKU")
        excl = decimal(detail, "unit_price_tax_excl")
        rate = (
            percent_rate(detail, "tax_rate")
            if detail.get("tax_rate") not in (None, "")
            else derived_rate(excl, decimal(detail, "unit_price_tax_incl"))
        )
        return OrderLine(
            kind=OrderLineKind.PRODUCT,
            name=text(detail, "product_name"),
            sku=sku,
            quantity=decimal(detail, "product_quantity"),
            unit_price=money(detail, "unit_price_tax_excl", currency, cents=False),
            vat_rate=rate,
            total_net=money(detail, "total_price_tax_excl", currency),
            total_gross=money(detail, "total_price_tax_incl", currency),
        )


def _extra_line(order: Payload, prefix: str, kind: OrderLineKind, name: str, currency: str) -> OrderLine | None:
    """A shipping, discount or wrapping line from the order's `<prefix>_tax_excl/_incl` totals."""
    with reading(kind.value):
        excl = decimal(order, f"{prefix}_tax_excl", "0")
        incl = decimal(order, f"{prefix}_tax_incl", "0")
        if excl <= 0 and incl <= 0:
            return None
        rate = derived_rate(excl, incl)
        if kind is OrderLineKind.SHIPPING and order.get("carrier_tax_rate") not in (None, ""):
            rate = percent_rate(order, "carrier_tax_rate")
        # Discounts are stored positive in PrestaShop; canonically they reduce the total.
        sign = -1 if kind is OrderLineKind.DISCOUNT else 1
        return OrderLine(
            kind=kind,
            name=name,
            quantity=Decimal(1),
            unit_price=money(order, f"{prefix}_tax_excl", currency, cents=False, sign=sign, default="0"),
            vat_rate=rate,
            total_net=money(order, f"{prefix}_tax_excl", currency, sign=sign, default="0"),
            total_gross=money(order, f"{prefix}_tax_incl", currency, sign=sign, default="0"),
        )
