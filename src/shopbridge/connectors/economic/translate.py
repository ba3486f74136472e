"""Pure conversions between canonical orders and customers and e-conomic documents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shopbridge.connectors.base import DocumentRef
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import Address, Customer, Order, OrderLine, OrderLineKind, round_cents

if TYPE_CHECKING:
    from shopbridge.connectors.economic.connector import EconomicSettings

SYSTEM = "economic"
REFERENCE_MAX = 250  # spec §6, references.other
ROUNDING_DESCRIPTION = "Rounding difference"
HALF_CENT = Decimal("0.005")

# Document collections (spec §6) → (DocumentRef.kind, the field holding the document number).
DOCUMENT_KINDS: dict[str, tuple[str, str]] = {
    "invoices/booked": ("booked_invoice", "bookedInvoiceNumber"),
    "invoices/drafts": ("draft_invoice", "draftInvoiceNumber"),
    "orders/drafts": ("order", "orderNumber"),
    "orders/sent": ("sent_order", "orderNumber"),
    "orders/archived": ("archived_order", "orderNumber"),
}

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)

# e-conomic stores the country as a name (spec §9: "Denmark"); codes not listed are sent as they are.
COUNTRY_NAMES: dict[str, str] = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czech Republic",
    "DE": "Germany", "DK": "Denmark", "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FR": "France",
    "GR": "Greece", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy", "LT": "Lithuania",
    "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta", "NL": "Netherlands", "PL": "Poland",
    "PT": "Portugal", "RO": "Romania", "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia",
    "NO": "Norway", "IS": "Iceland", "LI": "Liechtenstein", "CH": "Switzerland", "GB": "United Kingdom",
    "FO": "Faroe Islands", "GL": "Greenland", "AX": "Åland Islands", "US": "United States",
    "CA": "Canada", "AU": "Australia", "NZ": "New Zealand", "JP": "Japan", "CN": "China",
    "UA": "Ukraine", "TR": "Turkey",
}  # fmt: skip

# Field lengths from spec §6 (documents' delivery block and customers).
DOCUMENT_ADDRESS_MAX, CUSTOMER_ADDRESS_MAX, ZIP_MAX, CITY_MAX, COUNTRY_MAX, NAME_MAX = 255, 510, 30, 50, 50, 250


@dataclass(frozen=True)
class _DocumentLine:
    """A line as e-conomic will see it, with what the VAT check and the totals need."""

    name: str
    product_number: str
    shop_vat_rate: Decimal
    net: Decimal
    body: dict[str, Any]
    shop_net: Decimal = Decimal(0)
    shop_vat: Decimal = Decimal(0)
    quantity: Decimal = Decimal(1)
    kind: OrderLineKind = OrderLineKind.PRODUCT

    def vat_agrees_with(self, rate: Decimal) -> bool:
        """The shop's VAT on this line is `rate`, allowing for the shop's rounding per item.

        A rate derived from rounded amounts (a discount of 57.48 incl. / 45.99 excl. reads as
        24.98 %) is the same rate when the amounts differ by no more than rounding explains.
        """
        if rate == self.shop_vat_rate:
            return True
        allowed = HALF_CENT * (max(self.quantity, Decimal(1)) + 1)
        return abs(self.shop_vat - self.shop_net * rate) <= allowed


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code.upper(), code.upper())[:COUNTRY_MAX]


def billing_country(order: Order, settings: EconomicSettings) -> str:
    """The buyer's country; an order that names none is taken to be domestic."""
    for address in (order.billing_address, order.shipping_address, order.customer.address):
        if address.country:
            return address.country
    return settings.home_country.upper()


def vat_zone_for(order: Order, settings: EconomicSettings) -> int:
    """Domestic when the shop charged VAT or the buyer is at home; else EU or abroad (spec §6 vat-zones)."""
    country = billing_country(order, settings)
    if any(line.vat_rate > 0 for line in order.lines) or country == settings.home_country.upper():
        return settings.vat_zone_domestic
    return settings.vat_zone_eu if country in EU_COUNTRIES else settings.vat_zone_abroad


def customer_to_economic(customer: Customer, order: Order, settings: EconomicSettings) -> dict[str, Any]:
    """The body of `POST /customers` (spec §6 customers, §9 sample)."""
    address = order.billing_address if _has_postal_data(order.billing_address) else customer.address
    domestic = billing_country(order, settings) == settings.home_country.upper()
    group = settings.customer_group_domestic if domestic else settings.customer_group_foreign
    body: dict[str, Any] = {
        "name": customer.display_name[:255],
        "currency": order.currency,
        "customerGroup": {"customerGroupNumber": group},
        "paymentTerms": {"paymentTermsNumber": settings.payment_terms_number},
        "vatZone": {"vatZoneNumber": vat_zone_for(order, settings)},
        "email": customer.email,
        "telephoneAndFaxNumber": customer.phone or address.phone,
    }
    return _compact(body | _postal_fields(address, CUSTOMER_ADDRESS_MAX))


def order_to_economic(
    order: Order,
    customer_number: int,
    reference: str,
    settings: EconomicSettings,
    product_groups: dict[str, int],
) -> dict[str, Any]:
    """The body of `POST /orders/drafts` and of `POST /invoices/drafts` (spec §6, §9).

    `product_groups` maps every product number the document uses to its e-conomic product
    group, which decides the VAT e-conomic applies in the domestic zone.
    """
    _check_reference(reference)
    zone = vat_zone_for(order, settings)
    domestic = zone == settings.vat_zone_domestic
    lines = [_document_line(line, settings) for line in order.lines]
    if domestic:
        for line in lines:
            _check_vat_rate(line, settings, product_groups)
    rounding = _rounding_line(order, lines, domestic, settings, product_groups)
    return _compact({
        # The shop connector gives created_at in the shop's zone; its day is the books' day.
        "date": order.created_at.date().isoformat(),
        "currency": order.currency,
        "customer": {"customerNumber": customer_number},
        "layout": {"layoutNumber": settings.layout_number},
        "paymentTerms": {"paymentTermsNumber": settings.payment_terms_number},
        "recipient": _recipient(order, zone),
        "delivery": _postal_fields(order.shipping_address, DOCUMENT_ADDRESS_MAX),
        "references": {"other": reference},
        "notes": {"heading": f"Webshop order {order.reference or order.id}", "textLine1": order.note},
        "lines": [line.body for line in lines] + ([rounding] if rounding else []),
    })


def document_ref_from_economic(collection: str, payload: dict[str, Any]) -> DocumentRef:
    """A DocumentRef for a document read from one of the collections in `DOCUMENT_KINDS`."""
    kind, number_field = DOCUMENT_KINDS[collection.strip("/")]
    number = payload.get(number_field)
    if number is None:
        raise DataError(f"e-conomic returned a {kind} without {number_field}", system=SYSTEM)
    references = payload.get("references")
    reference = references.get("other", "") if isinstance(references, dict) else ""
    extra = {
        name: str(payload[field])
        for name, field in (("gross_amount", "grossAmount"), ("net_amount", "netAmount"),
                            ("vat_amount", "vatAmount"), ("currency", "currency"), ("self", "self"))
        if payload.get(field) is not None
    }  # fmt: skip
    return DocumentRef(kind=kind, number=str(number), reference=str(reference), extra=extra)


def _check_reference(reference: str) -> None:
    # Truncating would make two orders share a reference and defeat the lookup before create.
    if not reference or len(reference) > REFERENCE_MAX:
        raise DataError(f"reference must be 1 to {REFERENCE_MAX} characters, got {len(reference)}", system=SYSTEM)


def product_number(line: OrderLine, settings: EconomicSettings) -> str:
    """The e-conomic product a line is written on; a discount's depends on its VAT rate."""
    by_kind = {
        OrderLineKind.PRODUCT: line.sku,
        OrderLineKind.SHIPPING: settings.shipping_product,
        OrderLineKind.FEE: settings.fee_product,
        OrderLineKind.DISCOUNT: discount_product(line.vat_rate, settings),
    }
    return by_kind[line.kind]


def discount_product(rate: Decimal, settings: EconomicSettings) -> str:
    """In the domestic zone VAT follows the product group, so each rate needs a discount product
    in a group of that rate (discounts are split per rate: model/discount.py)."""
    return settings.discount_products_by_vat.get(_percent(rate), settings.discount_product)


def _document_line(line: OrderLine, settings: EconomicSettings) -> _DocumentLine:
    """One shop line as an e-conomic line; prices get two decimals, more is E04740 (spec §3)."""
    number = product_number(line, settings)
    if line.kind is OrderLineKind.DISCOUNT:
        quantity, unit_net = Decimal(1), -abs(round_cents(line.total_net.amount))
    else:
        quantity, unit_net = line.quantity, round_cents(line.unit_price.amount)
    body = {
        "product": {"productNumber": number},
        "description": (line.name or line.sku or line.kind.value)[:2500],
        "quantity": quantity,
        "unitNetPrice": unit_net,
    }
    net = round_cents(quantity * unit_net)
    shop_net = line.total_net.amount
    return _DocumentLine(
        line.name, number, line.vat_rate, net, body, shop_net, line.total_gross.amount - shop_net, line.quantity,
        line.kind,
    )


def _group_rate(number: str, settings: EconomicSettings, product_groups: dict[str, int]) -> tuple[int, Decimal]:
    if number not in product_groups:
        raise DataError(f"e-conomic has no product {number!r}", system=SYSTEM)
    group = product_groups[number]
    if group not in settings.vat_rates_by_product_group:
        raise ConfigError(f"no VAT rate is configured for e-conomic product group {group}", system=SYSTEM)
    return group, settings.vat_rates_by_product_group[group]


def _check_vat_rate(line: _DocumentLine, settings: EconomicSettings, product_groups: dict[str, int]) -> None:
    """In the domestic zone e-conomic takes VAT from the product group, so the shop must agree."""
    group, rate = _group_rate(line.product_number, settings, product_groups)
    if not line.vat_agrees_with(rate):
        hint = ""
        if line.kind is OrderLineKind.DISCOUNT and line.shop_vat_rate in settings.vat_rates_by_product_group.values():
            hint = f"; map {_percent(line.shop_vat_rate)} % to a discount product in discount_products_by_vat"
        raise DataError(
            f"line {line.name!r} has VAT {_percent(line.shop_vat_rate)} % but e-conomic product group "
            f"{group} applies {_percent(rate)} %{hint}",
            system=SYSTEM,
        )


def _erp_gross_total(
    lines: list[_DocumentLine], domestic: bool, settings: EconomicSettings, product_groups: dict[str, int]
) -> Decimal:
    """The gross total e-conomic will arrive at: line nets plus per-line VAT in the domestic zone."""
    total = sum((line.net for line in lines), Decimal(0))
    if domestic:
        rates = (_group_rate(line.product_number, settings, product_groups)[1] for line in lines)
        total += sum((round_cents(line.net * rate) for line, rate in zip(lines, rates, strict=True)), Decimal(0))
    return total


def _rounding_line(
    order: Order,
    lines: list[_DocumentLine],
    domestic: bool,
    settings: EconomicSettings,
    product_groups: dict[str, int],
) -> dict[str, Any] | None:
    """A VAT-free line that makes e-conomic's gross total equal the shop's, or None if they agree."""
    erp_total = _erp_gross_total(lines, domestic, settings, product_groups)
    difference = round_cents(order.total_gross.amount) - erp_total
    if difference == 0:
        return None
    if abs(difference) > settings.rounding_tolerance:
        raise DataError(
            f"the order's gross total is {order.total_gross.amount} {order.currency} but e-conomic would "
            f"compute {erp_total} {order.currency}; the difference exceeds {settings.rounding_tolerance}",
            system=SYSTEM,
        )
    _check_rounding_product(settings, product_groups)
    return {
        "product": {"productNumber": settings.rounding_product},
        "description": ROUNDING_DESCRIPTION,
        "quantity": Decimal(1),
        "unitNetPrice": difference,
    }


def _check_rounding_product(settings: EconomicSettings, product_groups: dict[str, int]) -> None:
    number = settings.rounding_product
    if number not in product_groups:
        raise ConfigError(f"the rounding product {number!r} does not exist in e-conomic", system=SYSTEM)
    group, rate = _group_rate(number, settings, product_groups)
    if rate != 0:
        raise ConfigError(
            f"the rounding product {number!r} is in product group {group} with {_percent(rate)} % VAT; "
            "it must be in a VAT-free group",
            system=SYSTEM,
        )


def _recipient(order: Order, zone: int) -> dict[str, Any]:
    address = order.billing_address
    name = address.company or address.full_name or order.customer.display_name
    postal = _postal_fields(address, DOCUMENT_ADDRESS_MAX)
    return {"name": name[:NAME_MAX]} | postal | {"vatZone": {"vatZoneNumber": zone}}


def _postal_fields(address: Address, address_max: int) -> dict[str, str]:
    """Address, zip, city and country name, cut to e-conomic's lengths; empty ones are left out."""
    street = "\n".join(part for part in (address.street, address.street2) if part)
    fields = {
        "address": street[:address_max],
        "zip": address.postcode[:ZIP_MAX],
        "city": address.city[:CITY_MAX],
        "country": country_name(address.country) if address.country else "",
    }
    return {name: value for name, value in fields.items() if value}


def _has_postal_data(address: Address) -> bool:
    return bool(address.street or address.city or address.postcode)


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    """Drop empty strings, None and empty objects: e-conomic rejects nulls (spec §3)."""
    items = ((key, _compact(value) if isinstance(value, dict) else value) for key, value in body.items())
    return {key: value for key, value in items if value not in ("", None, {})}


def _percent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")
