"""The Mamut emulator: import semantics, refusals with a log, and the export files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from shopbridge.sandbox import catalog, mamut
from shopbridge.sandbox.mamut import MamutRunner

HEADER = '<?xml version="1.0" encoding="iso-8859-1"?>\n'


def order_xml(external: str = "shop/1/1", contact: str = "<CONTID>0</CONTID><CONTNAME>Åse Ødegård</CONTNAME>",
              lines: str = "", root: str = "GBAOX10") -> bytes:  # fmt: skip
    lines = lines or ("<ORDERLINE><PRODID>MUG-01</PRODID><QUANTITY>2</QUANTITY><PRICE>79.20</PRICE>"
                      "<VATCODE>0</VATCODE><STOREID>1</STOREID></ORDERLINE>")  # fmt: skip
    body = (f"<{root}><ORDERLIST><ORDER><ORDERID>1001</ORDERID>{contact}<EXTERNALID>{external}</EXTERNALID>"
            f"<ORDERLINES>{lines}</ORDERLINES></ORDER></ORDERLIST></{root}>")  # fmt: skip
    return (HEADER + body).encode("iso-8859-1")


def customer_xml(contact_id: str, name: str, email: str = "", organisation: str = "") -> bytes:
    body = (f"<GBACX10><CUSTOMERLIST><CUSTOMER><CONTID>{contact_id}</CONTID><CONTNAME>{name}</CONTNAME>"
            f"<EMAIL>{email}</EMAIL><ORGNO>{organisation}</ORGNO></CUSTOMER></CUSTOMERLIST></GBACX10>")  # fmt: skip
    return (HEADER + body).encode("iso-8859-1")


@pytest.fixture
def runner(tmp_path: Path) -> MamutRunner:
    return mamut.create_app(mamut.seeded_state(seed=1), tmp_path / "company", poll_seconds=0.01)


def drop(runner: MamutRunner, name: str, data: bytes) -> None:
    (runner.directory / "import" / name).write_bytes(data)
    runner.run_once()


def exported(runner: MamutRunner, name: str, path: str) -> list[etree._Element]:
    return etree.fromstring((runner.directory / "export" / name).read_bytes()).findall(path)


def test_seeded_products_are_the_demo_catalogue_with_stock(runner: MamutRunner) -> None:
    products = {node.findtext("PRODID"): node for node in exported(runner, "products.xml", "PRODUCTLIST/PRODUCT")}
    assert set(catalog.all_skus()) <= set(products)
    assert products["MUG-01"].findtext("PRICEOUT") == "79.20" and products["MUG-01"].findtext("STORESTOCK") == "100"
    assert products["GIFTCARD"].findtext("VATCODE") == "1"


def test_imported_order_gets_a_new_number_keeps_its_external_number_and_is_unprocessed(runner: MamutRunner) -> None:
    drop(runner, "a.xml", order_xml())
    (order,) = runner.state.orders_by_external("shop/1/1")
    assert order.number == 10001 and order.status == "UNPROCESSED"
    (node,) = exported(runner, "orders.xml", "ORDERLIST/ORDER")
    assert (node.findtext("ORDERID"), node.findtext("EXTERNALID"), node.findtext("STATUS")) == (
        "10001", "shop/1/1", "UNPROCESSED")  # fmt: skip
    assert node.findtext("SUMORDERTOTAL") == "198.00"
    assert (runner.directory / "done" / "a.xml").exists() and not (runner.directory / "import" / "a.xml").exists()


def test_order_for_an_unknown_customer_creates_one_from_the_order(runner: MamutRunner) -> None:
    drop(runner, "a.xml", order_xml())
    (order,) = runner.state.orders.values()
    assert runner.state.contacts[order.customer].name == "Åse Ødegård"


@pytest.mark.parametrize("contact", ["<CONTID>{number}</CONTID>", "<CONTID>0</CONTID><EMAIL>ANNA@example.dk</EMAIL>",
                                     "<CONTID>0</CONTID><ORGNO>DK12345678</ORGNO>"])  # fmt: skip
def test_order_customer_is_matched_by_number_email_or_organisation_number(runner: MamutRunner, contact: str) -> None:
    known = mamut.add_customer(runner.state, "Anna", "anna@example.dk", "DK12345678")
    drop(runner, "a.xml", order_xml(contact=contact.format(number=known.number)))
    (order,) = runner.state.orders.values()
    assert order.customer == known.number and len(runner.state.contacts) == 1


def test_customer_import_with_number_zero_gets_the_next_number_and_matches_by_email_later(runner: MamutRunner) -> None:
    drop(runner, "a.xml", customer_xml("0", "Lars Nielsen", "lars@example.dk"))
    drop(runner, "b.xml", customer_xml("0", "Lars N.", "LARS@example.dk"))
    (contact,) = runner.state.contacts.values()
    assert contact.number == 10000 and contact.name == "Lars N."
    (node,) = exported(runner, "customers.xml", "CUSTOMERLIST/CUSTOMER")
    assert node.findtext("EMAIL") == "LARS@example.dk"


def test_unknown_product_becomes_a_free_text_line(runner: MamutRunner) -> None:
    line = "<ORDERLINE><PRODID>NOPE</PRODID><QUANTITY>1</QUANTITY><PRICE>5</PRICE></ORDERLINE>"
    drop(runner, "a.xml", order_xml(lines=line))
    (order,) = runner.state.orders.values()
    assert (order.lines[0].product, order.lines[0].description) == ("DESCRIPTION", "NOPE")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<GBAOX10/>", "iso-8859-1"),
        (HEADER.encode() + b"<GBAOX10><ORDERLIST>", "not well-formed"),
        (order_xml(root="gbaox10"), "upper case"),
        (order_xml(root="GBAOX99"), "unknown format GBAOX99"),
        (order_xml(lines="<ORDERLINE><PRODID>MUG-01</PRODID><QUANTITY>1,5</QUANTITY></ORDERLINE>"), "QUANTITY"),
        (order_xml(lines="<ORDERLINE><PRODID>MUG-01</PRODID><PRICE>1.23456</PRICE></ORDERLINE>"), "decimals"),
        (order_xml(lines="<ORDERLINE><PRODID>MUG-01</PRODID><VATCODE>42</VATCODE></ORDERLINE>"), "VAT code 42"),
        (order_xml(lines="<ORDERLINE><PRODID>MUG-01</PRODID><STOREID>7</STOREID></ORDERLINE>"), "warehouse 7"),
        (order_xml(lines="<ORDERLINE><QUANTITY>1</QUANTITY></ORDERLINE>"), "PRODID"),
    ],
)
def test_malformed_file_is_refused_whole_with_a_log_beside_it(runner: MamutRunner, data: bytes, reason: str) -> None:
    drop(runner, "bad.xml", data)
    assert runner.state.orders == {}
    assert (runner.directory / "error" / "bad.xml").exists()
    assert reason in (runner.directory / "error" / "bad.log").read_text(encoding="iso-8859-1")


def test_a_refused_file_does_not_hold_up_the_next(runner: MamutRunner) -> None:
    (runner.directory / "import" / "a.xml").write_bytes(b"garbage")
    (runner.directory / "import" / "b.xml").write_bytes(order_xml())
    assert runner.run_once() == 2
    assert len(runner.state.orders) == 1


def test_half_written_files_are_left_alone(runner: MamutRunner) -> None:
    (runner.directory / "import" / "a.xml.tmp").write_bytes(order_xml()[:40])
    assert runner.run_once() == 0


def test_product_import_creates_and_updates_stock(runner: MamutRunner) -> None:
    body = ("<GBAPX10><PRODUCTLIST><PRODUCT><PRODID>NEW-1</PRODID><DESCRIPTION>Ny vare</DESCRIPTION>"
            "<PRICEOUT>10.5</PRICEOUT><STORESTOCK>3</STORESTOCK><DEFSTOREID>2</DEFSTOREID></PRODUCT>"
            "</PRODUCTLIST></GBAPX10>")  # fmt: skip
    drop(runner, "p.xml", (HEADER + body).encode("iso-8859-1"))
    stock = exported(runner, "stock.xml", "STOCKLIST/STOCK")
    assert [(s.findtext("PRODID"), s.findtext("STOREID"), s.findtext("QUANTITY")) for s in stock
            if s.findtext("PRODID") == "NEW-1"] == [("NEW-1", "2", "3")]  # fmt: skip


def test_status_changes_show_in_the_export(runner: MamutRunner) -> None:
    drop(runner, "a.xml", order_xml())
    mamut.set_status(runner.state, 10001, "INVOICED")
    runner.write_exports()
    (node,) = exported(runner, "orders.xml", "ORDERLIST/ORDER")
    assert node.findtext("STATUS") == "INVOICED"


def test_totals_round_each_line_to_the_ore(runner: MamutRunner) -> None:
    lines = ("<ORDERLINE><PRODID>BAG-TOTE</PRODID><QUANTITY>3</QUANTITY><PRICE>99.99</PRICE></ORDERLINE>"
             "<ORDERLINE><PRODID>GIFTCARD</PRODID><QUANTITY>1</QUANTITY><PRICE>400</PRICE></ORDERLINE>")  # fmt: skip
    drop(runner, "a.xml", order_xml(lines=lines))
    assert mamut.order_totals(runner.state, runner.state.orders[10001]) == (Decimal("699.97"), Decimal("74.99"))


async def test_the_runner_thread_picks_files_up_by_itself(runner: MamutRunner) -> None:
    from tests.mamut_support import eventually

    runner.start()
    try:
        (runner.directory / "import" / "a.xml").write_bytes(order_xml())
        await eventually(lambda: len(runner.state.orders) == 1, timeout=5)
    finally:
        runner.stop()
