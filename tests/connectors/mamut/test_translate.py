"""Order and customer → Mamut import XML, Mamut export XML → records: pure functions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from shopbridge.connectors.mamut.translate import (
    MamutLineCodes,
    customer_to_mamut,
    customers_from_mamut,
    latin1,
    order_to_mamut,
    orders_from_mamut,
    product_numbers_from_mamut,
)
from shopbridge.errors import DataError
from shopbridge.model import OrderLineKind
from shopbridge.sandbox import mamut
from shopbridge.sandbox.mamut.imports import apply_file

from ..document_sink_contract import customer, demo_order, discount, line, order, product, shipping

CODES = MamutLineCodes("FRAKT", "GEBYR", "RABATT", {Decimal("0.25"): 3, Decimal("0"): 1}, 1)
REFERENCE = "acme/1/1001"


def parsed(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("iso-8859-1"))


def lines_of(xml: str) -> list[dict[str, str]]:
    nodes = parsed(xml).findall("ORDERLIST/ORDER/ORDERLINES/ORDERLINE")
    return [{child.tag: child.text or "" for child in node} for node in nodes]


def test_order_file_is_gbaox10_in_iso_8859_1_with_the_transfer_id_as_external_number() -> None:
    xml = order_to_mamut(demo_order("1001"), "10005", REFERENCE, CODES)
    assert xml.startswith('<?xml version="1.0" encoding="iso-8859-1"?>')
    node = parsed(xml).find("ORDERLIST/ORDER")
    assert node is not None
    numbers = (node.findtext("ORDERID"), node.findtext("CONTID"), node.findtext("EXTERNALID"))
    assert numbers == ("1001", "10005", REFERENCE)
    assert node.findtext("DATA15") == "1"  # department "none" is 1, never blank (spec §2)


def test_service_lines_go_to_the_configured_products_with_their_vat_codes() -> None:
    items = [product("MUG-01", "2", "79.20"), product("GIFTCARD", "1", "400", "0"), shipping(), discount("10.00")]
    placed = order(items)
    lines = lines_of(order_to_mamut(placed, "1", REFERENCE, CODES))
    assert [(item["PRODID"], item["QUANTITY"], item["PRICE"], item["VATCODE"]) for item in lines] == [
        ("MUG-01", "2.00", "79.200", "3"), ("GIFTCARD", "1.00", "400.000", "1"), ("FRAKT", "1.00", "39.200", "3"),
        ("RABATT", "1.00", "-10.000", "3"),
    ]  # fmt: skip


def test_mamut_arrives_at_the_shops_total_for_the_demo_order() -> None:
    placed = demo_order("1001")
    state = mamut.seeded_state()
    apply_file(state, order_to_mamut(placed, "0", REFERENCE, CODES).encode("iso-8859-1"))
    (imported,) = state.orders_by_external(REFERENCE)
    net, vat = mamut.order_totals(state, imported)
    assert net + vat == placed.total_gross.amount


def test_nordic_letters_survive_and_other_characters_become_look_alikes_or_question_marks() -> None:
    buyer = customer(first_name="Åse", last_name="Ødegård – Bjørn 😀")
    xml = customer_to_mamut(buyer)
    assert "Åse Ødegård - Bjørn ?".encode("iso-8859-1") in xml.encode("iso-8859-1")
    assert parsed(xml).findtext("CUSTOMERLIST/CUSTOMER/CONTNAME") == "Åse Ødegård - Bjørn ?"


def test_hostile_strings_stay_text() -> None:
    hostile = '</CONTNAME><CONTID>1</CONTID>&amp; "x" ]]>'
    xml = order_to_mamut(demo_order("1001", buyer=customer(company=hostile)), "7", REFERENCE, CODES)
    node = parsed(xml).find("ORDERLIST/ORDER")
    assert node is not None and node.findtext("CONTID") == "7"
    assert node.findtext("CONTNAME") == hostile


def test_fields_are_cut_to_mamuts_lengths() -> None:
    long_name = "Æ" * 300
    placed = order([line(OrderLineKind.PRODUCT, long_name, "1", "10.00", "0.25", "MUG-01")])
    (item,) = lines_of(order_to_mamut(placed, "1", REFERENCE, CODES))
    assert item["DESCRIPTION"] == "Æ" * 60


def test_colons_in_an_address_do_not_become_line_breaks() -> None:
    placed = demo_order("1001", buyer=customer(street="Gade 1: 2. sal"))
    node = parsed(order_to_mamut(placed, "1", REFERENCE, CODES)).find("ORDERLIST/ORDER")
    assert node is not None and node.findtext("ADRINVO") == "Anna Jensen:Vestergade 12:8000 Aarhus C:DK"


@pytest.mark.parametrize(
    ("placed", "message"),
    [
        (order([product("MUG-01", "1.005", "10.00")]), "two decimals"),
        (order([product("MUG-01", "1", "10.00", "0.07")]), "VAT code"),
        (order([product("MUG-01", "1000", "0.10001")]), "three-decimal unit price"),
    ],
)
def test_values_mamut_cannot_hold_are_data_errors(placed: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        order_to_mamut(placed, "1", REFERENCE, CODES)  # type: ignore[arg-type]


def test_latin1_drops_control_characters() -> None:
    assert latin1("a\x07b\x85c", 0) == "a b c"


def test_exports_are_read_into_records() -> None:
    state = mamut.seeded_state()
    contact = mamut.add_customer(state, "Fabrik ApS", "indkob@fabrik.dk", "DK11223344")
    apply_file(state, order_to_mamut(demo_order("7"), str(contact.number), REFERENCE, CODES).encode("iso-8859-1"))
    files = {name: data.decode("iso-8859-1") for name, data in mamut.exports(state).items()}
    (exported,) = orders_from_mamut(files["orders.xml"])
    assert (exported.number, exported.external_number, exported.status, exported.customer) == (
        "10001", REFERENCE, "UNPROCESSED", str(contact.number))  # fmt: skip
    (buyer,) = customers_from_mamut(files["customers.xml"])
    assert (buyer.email, buyer.organisation_number) == ("indkob@fabrik.dk", "DK11223344")
    assert {"MUG-01", "FRAKT"} <= product_numbers_from_mamut(files["products.xml"])


def test_an_unreadable_export_is_a_data_error() -> None:
    with pytest.raises(DataError, match="cannot be read"):
        orders_from_mamut("<GBAOX10><ORDERLIST>")
