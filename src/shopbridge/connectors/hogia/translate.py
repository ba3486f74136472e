"""Pure conversions between canonical orders and customers and Hogia contacts and customer invoices."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shopbridge.connectors.base import DocumentRef
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import Address, Customer, Order, OrderLine, OrderLineKind, round_cents

if TYPE_CHECKING:
    from shopbridge.connectors.hogia.connector import HogiaSettings

SYSTEM = "hogia"
# Field lengths are not published (spec §2); these are the emulator's, kept in one place.
REFERENCE_MAX, ORDER_NUMBER_MAX, DESCRIPTION_MAX, ARTICLE_NUMBER_MAX = 100, 50, 250, 25
COMPANY_MAX, PERSON_NAME_MAX, STREET_MAX, ZIP_MAX, CITY_MAX, CHANNEL_MAX = 100, 50, 100, 10, 50, 100
HALF_ORE = Decimal("0.005")
BOOKED, DRAFT = "booked_invoice", "draft_invoice"
_SWEDISH_VAT_NUMBER = re.compile(r"SE(\d{10})01")
_ORGANISATION_NUMBER = re.compile(r"(\d{6})-?(\d{4})")


@dataclass(frozen=True)
class VatCode:
    code: str
    rate: Decimal  # a fraction, 0.25


@dataclass(frozen=True)
class _Line:
    """A line as Hogia will price it, with what the VAT choice and the totals need."""

    body: dict[str, Any]
    net: Decimal
    rate: Decimal


def vat_codes_from_hogia(items: list[dict[str, Any]]) -> list[VatCode]:
    """VAT codes in the order Hogia lists them; rates arrive as percentages (25 → 0.25)."""
    codes = []
    for item in items:
        code, rate = item.get("code"), item.get("rate")
        if isinstance(code, str) and code and isinstance(rate, int | Decimal):
            codes.append(VatCode(code, Decimal(rate) / 100))
    return codes


def organisation_number(*numbers: str) -> str:
    """The Swedish organisation number, as `NNNNNN-NNNN`, from the first VAT or org number that holds one."""
    for raw in numbers:
        digits = _organisation_digits(raw.replace(" ", "").upper())
        if digits:
            return f"{digits[:6]}-{digits[6:]}"
    return ""


def _organisation_digits(text: str) -> str:
    vat = _SWEDISH_VAT_NUMBER.fullmatch(text)
    if vat:
        return vat.group(1)
    number = _ORGANISATION_NUMBER.fullmatch(text)
    return "".join(number.groups()) if number else ""


def contact_to_hogia(customer: Customer, order: Order, sequence_id: str) -> dict[str, Any]:
    """The body of `POST /{org}/contacts` (spec §2, contact fields)."""
    address = order.billing_address if _has_postal_data(order.billing_address) else customer.address
    company = customer.company or order.billing_address.company
    given = customer.first_name or address.first_name
    sur = customer.last_name or address.last_name
    if not (company or given or sur):
        given = customer.email  # Hogia needs a name; the e-mail is the one the buyer gave
    channels = [{"type": "Email", "value": customer.email[:CHANNEL_MAX]}]
    phone = customer.phone or address.phone
    vat_number = customer.vat_number or order.billing_address.vat_number
    if phone:
        channels.append({"type": "Phone", "value": phone[:CHANNEL_MAX]})
    return {
        "sequenceId": sequence_id,
        "isOrganization": bool(company),
        "companyName": company[:COMPANY_MAX],
        "givenName": given[:PERSON_NAME_MAX],
        "surName": sur[:PERSON_NAME_MAX],
        "identificationNumber": organisation_number(vat_number) if company else "",
        "vatNumber": vat_number[:20],
        "countryCode": address.country or order.billing_address.country,
        "addresses": [_address(address)] if _has_postal_data(address) else [],
        "contactChannels": channels,
        "customer": {"isActive": True, "selectedCurrencyCode": order.currency},
    }


def invoice_to_hogia(
    order: Order, customer_number: str, reference: str, settings: HogiaSettings, codes: list[VatCode], sequence_id: str
) -> dict[str, Any]:
    """The v2 body of `POST /{org}/customerinvoices` (spec §2), its gross total equal to the shop's."""
    if not reference or len(reference) > REFERENCE_MAX:
        # Truncating would let two orders share a reference and defeat the lookup before create.
        raise DataError(f"reference must be 1 to {REFERENCE_MAX} characters, got {len(reference)}", system=SYSTEM)
    lines = [part for line in order.lines for part in _invoice_lines(line, order, settings, codes)]
    rounding = _rounding_line(order, lines, settings, codes)
    header = {
        "customerNumber": customer_number,
        "invoiceDate": order.created_at.date().isoformat(),  # the shop's local day (created_at is shop-local)
        "currency": {"code": order.currency},
        "customerOrderNumber": (order.reference or order.id)[:ORDER_NUMBER_MAX],
        "externalReference": reference,
        "comment": order.note[:1000],
    }
    body_lines = [line.body for line in lines] + ([rounding] if rounding else [])
    return {"sequenceId": sequence_id, "customerInvoice": header,
            "invoiceLines": [{"invoiceLine": line} for line in body_lines]}  # fmt: skip


def fee_article(kind: OrderLineKind, settings: HogiaSettings) -> str:
    """The fee article an order-level amount is booked on (spec §1: fraktavg, expavg, rabatt)."""
    by_kind = {
        OrderLineKind.SHIPPING: settings.freight_article,
        OrderLineKind.FEE: settings.handling_article,
        OrderLineKind.DISCOUNT: settings.discount_article,
    }
    return by_kind[kind]


def vat_code_for(line: OrderLine, codes: list[VatCode]) -> VatCode:
    """The code with the line's rate, else one the line's rounded amounts agree with."""
    code = _matching_code(line, codes)
    if code is None:
        raise _no_vat_code(line)
    return code


def _no_vat_code(line: OrderLine) -> DataError:
    message = f"line {line.name!r} has VAT {_percent(line.vat_rate)} % and Hogia has no VAT code for it"
    return DataError(message, system=SYSTEM)


def _matching_code(line: OrderLine, codes: list[VatCode]) -> VatCode | None:
    exact = [code for code in codes if code.rate == line.vat_rate]
    if exact:
        return exact[0]
    # A rate derived from rounded amounts (57.48 incl. / 45.99 excl. reads as 24.98 %) is the same
    # rate when the amounts differ by no more than the shop's rounding per item explains.
    allowed = HALF_ORE * (max(line.quantity, Decimal(1)) + 1)
    net = line.total_net.amount
    close = [code for code in codes if abs(line.total_gross.amount - net - net * code.rate) <= allowed]
    return close[0] if close else None


def split_discount(line: OrderLine, order: Order, codes: list[VatCode]) -> list[tuple[Decimal, VatCode]]:
    """A discount over goods of several VAT rates as (net, code) parts in proportion to their nets.

    Shops give such a discount one blended rate (25 % and 12 % goods read as, say, 18.9 %); Hogia
    needs a code per part. The parts' VAT must come to the shop's discount VAT, give or take an öre
    per part, or the discount is not one the goods' rates explain.
    """
    nets: dict[Decimal, Decimal] = {}
    for item in order.lines:
        if item.kind is OrderLineKind.PRODUCT:
            nets[item.vat_rate] = nets.get(item.vat_rate, Decimal(0)) + item.total_net.amount
    total, amount = sum(nets.values(), Decimal(0)), -abs(round_cents(line.total_net.amount))
    codes_by_rate = {rate: next((code for code in codes if code.rate == rate), None) for rate in nets}
    if len(nets) < 2 or total <= 0 or None in codes_by_rate.values():
        raise _no_vat_code(line)
    rates = sorted(nets)
    parts = [round_cents(amount * nets[rate] / total) for rate in rates[:-1]]
    parts.append(amount - sum(parts, Decimal(0)))
    vat = sum((round_cents(part * rate) for part, rate in zip(parts, rates, strict=True)), Decimal(0))
    if abs(vat - -abs(line.total_vat.amount)) > Decimal("0.01") * len(parts):
        raise _no_vat_code(line)
    return [(part, code) for part, code in zip(parts, (codes_by_rate[rate] for rate in rates), strict=True) if code]


def document_ref_from_hogia(payload: dict[str, Any]) -> DocumentRef:
    """A DocumentRef for a customer invoice: drafts by id, booked invoices by invoice number."""
    invoice_id = payload.get("id")
    if not isinstance(invoice_id, str) or not invoice_id:
        raise DataError("Hogia returned a customer invoice without id", system=SYSTEM)
    raw_header = payload.get("invoiceHeader")
    header: dict[str, Any] = raw_header if isinstance(raw_header, dict) else {}
    booked = payload.get("customerInvoiceState") == "Booked" and payload.get("invoiceNumber") is not None
    extra = {"id": invoice_id} | {
        name: str(header[field])
        for name, field in (("gross_amount", "grossAmount"), ("net_amount", "netAmount"), ("vat_amount", "vatAmount"))
        if header.get(field) is not None
    }
    number = str(payload["invoiceNumber"]) if booked else invoice_id
    return DocumentRef(BOOKED if booked else DRAFT, number, str(header.get("externalReference") or ""), extra)


def _invoice_lines(line: OrderLine, order: Order, settings: HogiaSettings, codes: list[VatCode]) -> list[_Line]:
    """One Hogia line per shop line, but a discount over several VAT rates in one line per rate."""
    if line.kind is not OrderLineKind.DISCOUNT or _matching_code(line, codes) is not None:
        return [_invoice_line(line, settings, codes)]
    article, name = fee_article(line.kind, settings), (line.name or line.kind.value)[:DESCRIPTION_MAX]
    return [
        _Line({"itemNumber": article, "description": name, "quantity": Decimal(1), "unitPrice": net,
               "vatCode": code.code}, net, code.rate)  # fmt: skip
        for net, code in split_discount(line, order, codes)
    ]


def _invoice_line(line: OrderLine, settings: HogiaSettings, codes: list[VatCode]) -> _Line:
    number = line.sku if line.kind is OrderLineKind.PRODUCT else fee_article(line.kind, settings)
    if line.kind is OrderLineKind.DISCOUNT:
        quantity, unit_price = Decimal(1), -abs(round_cents(line.total_net.amount))
    else:
        quantity, unit_price = line.quantity, round_cents(line.unit_price.amount)
    code = vat_code_for(line, codes)
    body = {
        "itemNumber": number,
        "description": (line.name or line.sku or line.kind.value)[:DESCRIPTION_MAX],
        "quantity": quantity,
        "unitPrice": unit_price,
        "vatCode": code.code,
    }
    return _Line(body, round_cents(quantity * unit_price), code.rate)


def _rounding_line(
    order: Order, lines: list[_Line], settings: HogiaSettings, codes: list[VatCode]
) -> dict[str, Any] | None:
    """A VAT-free line on the rounding article that makes Hogia's gross total the shop's, or None."""
    erp_total = sum((line.net + round_cents(line.net * line.rate) for line in lines), Decimal(0))
    difference = round_cents(order.total_gross.amount) - erp_total
    if difference == 0:
        return None
    if abs(difference) > settings.rounding_tolerance:
        raise DataError(
            f"the order's gross total is {order.total_gross.amount} {order.currency} but Hogia would compute "
            f"{erp_total} {order.currency}; the difference exceeds {settings.rounding_tolerance}",
            system=SYSTEM,
        )
    free = [code for code in codes if code.rate == 0]
    if not free:
        raise ConfigError("Hogia has no VAT code with 0 % for the öre rounding line", system=SYSTEM)
    return {"itemNumber": settings.rounding_article, "description": "Öresavrundning", "quantity": Decimal(1),
            "unitPrice": difference, "vatCode": free[0].code}  # fmt: skip


def _address(address: Address) -> dict[str, str]:
    return {
        "street": address.street[:STREET_MAX],
        "streetExtraLine": address.street2[:STREET_MAX],
        "zipCode": address.postcode[:ZIP_MAX],
        "city": address.city[:CITY_MAX],
        "country": address.country,
    }


def _has_postal_data(address: Address) -> bool:
    return bool(address.street or address.city or address.postcode)


def _percent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")
