"""Webservice JSON payloads shaped like PrestaShop's (spec §3.2): `id` an integer, all else strings."""

from __future__ import annotations

from typing import Any

Payload = dict[str, Any]
COUNTRY_ISO = {"20": "DK", "18": "SE"}


def order_payload(**overrides: Any) -> Payload:
    """`GET /api/orders/7` for a Danish order: two products, shipping, no discount, no wrapping."""
    payload: Payload = {
        "id": 7,
        "id_address_delivery": "11",
        "id_address_invoice": "12",
        "id_cart": "9",
        "id_currency": "1",
        "id_lang": "1",
        "id_customer": "5",
        "id_carrier": "3",
        "current_state": "2",
        "module": "ps_wirepayment",
        "invoice_number": "0",
        "invoice_date": "0000-00-00 00:00:00",
        "delivery_date": "0000-00-00 00:00:00",
        "valid": "1",
        "date_add": "2024-06-03 10:15:00",
        "date_upd": "2024-06-03 11:00:05",
        "shipping_number": "",
        "id_shop_group": "1",
        "id_shop": "1",
        "payment": "Bank wire",
        "total_discounts": "0.000000",
        "total_discounts_tax_incl": "0.000000",
        "total_discounts_tax_excl": "0.000000",
        "total_paid": "373.000000",
        "total_paid_tax_incl": "373.000000",
        "total_paid_tax_excl": "298.400000",
        "total_paid_real": "0.000000",
        "total_products": "258.400000",
        "total_products_wt": "323.000000",
        "total_shipping": "50.000000",
        "total_shipping_tax_incl": "50.000000",
        "total_shipping_tax_excl": "40.000000",
        "carrier_tax_rate": "25.000",
        "total_wrapping": "0.000000",
        "total_wrapping_tax_incl": "0.000000",
        "total_wrapping_tax_excl": "0.000000",
        "conversion_rate": "1.000000",
        "reference": "XKBKNABJK",
        "associations": {"order_rows": [{"id": "21", "product_id": "1"}, {"id": "22", "product_id": "4"}]},
    }
    payload.update(overrides)
    return payload


def detail_payload(**overrides: Any) -> Payload:
    """One `order_details` row: two stoneware mugs at 79.20 net, 25 % VAT."""
    payload: Payload = {
        "id": 21,
        "id_order": "7",
        "product_id": "1",
        "product_attribute_id": "0",
        "product_name": "Stoneware mug",
        "product_quantity": "2",
        "product_price": "79.200000",
        "reduction_percent": "0.00",
        "product_reference": "MUG-01",
        "product_ean13": "",
        "unit_price_tax_incl": "99.000000",
        "unit_price_tax_excl": "79.200000",
        "total_price_tax_incl": "198.000000",
        "total_price_tax_excl": "158.400000",
        "tax_rate": "25.000",
        "tax_name": "Moms DK 25%",
    }
    payload.update(overrides)
    return payload


def combination_detail_payload(**overrides: Any) -> Payload:
    """A T-shirt bought in size L, black: the combination's own reference is the SKU."""
    payload = detail_payload(
        id=22,
        product_id="4",
        product_attribute_id="17",
        product_name="T-shirt - Size : L, Colour : Black",
        product_quantity="1",
        product_price="100.000000",
        product_reference="TEE-L-BLA",
        unit_price_tax_incl="125.000000",
        unit_price_tax_excl="100.000000",
        total_price_tax_incl="125.000000",
        total_price_tax_excl="100.000000",
    )
    payload.update(overrides)
    return payload


def customer_payload(**overrides: Any) -> Payload:
    payload: Payload = {
        "id": 5,
        "id_default_group": "3",
        "lastname": "Jensen",
        "firstname": "Mette",
        "email": "Mette.Jensen@Example.DK",
        "company": "",
        "id_shop": "1",
        "date_add": "2023-01-01 09:00:00",
        "date_upd": "2023-01-01 09:00:00",
    }
    payload.update(overrides)
    return payload


def address_payload(**overrides: Any) -> Payload:
    payload: Payload = {
        "id": 12,
        "id_customer": "5",
        "id_country": "20",
        "id_state": "0",
        "alias": "Home",
        "company": "",
        "lastname": "Jensen",
        "firstname": "Mette",
        "vat_number": "",
        "address1": "Nørregade 1",
        "address2": "",
        "postcode": "1165",
        "city": "København K",
        "phone": "",
        "phone_mobile": "+45 20 30 40 50",
        "deleted": "0",
    }
    payload.update(overrides)
    return payload


def swedish_address_payload(**overrides: Any) -> Payload:
    payload = address_payload(
        id=13,
        id_country="18",
        company="Kaffebolaget AB",
        vat_number="SE556677889901",
        address1="Drottninggatan 5",
        postcode="111 51",
        city="Stockholm",
        phone="+46 8 123 456",
    )
    payload.update(overrides)
    return payload
